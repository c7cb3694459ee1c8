//! Chaining of signal handlers (Linux): what a handler that takes only some faults does
//! with the others. The core's SIGBUS handler and the C API's fault handlers share it.

/// Hands the signal `sig` that a chaining handler does not take to `prev`, the action
/// installed before it: a default or ignored action is restored and the handler returns
/// (the faulting instruction runs again and gets that action, as without the handler);
/// a handler is called as the kernel would have called it. Shared with the C API's own
/// chaining handlers.
///
/// # Safety
/// Called from a handler of `sig`, with the `info` and `ctx` the kernel passed it; `prev`
/// is an action the kernel returned by `sigaction`.
pub unsafe fn pass_to_previous(
    prev: &libc::sigaction,
    sig: libc::c_int,
    info: *mut libc::siginfo_t,
    ctx: *mut libc::c_void,
) {
    let action = prev.sa_sigaction;
    if action == libc::SIG_DFL || action == libc::SIG_IGN {
        // SAFETY: `prev` is an action the kernel gave us.
        unsafe { libc::sigaction(sig, prev, std::ptr::null_mut()) };
        return;
    }
    // SAFETY: calling the previous handler as the kernel would have, with the same
    // arguments, according to its SA_SIGINFO flag.
    unsafe {
        if prev.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(action);
            f(sig, info, ctx);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(action);
            f(sig);
        }
    }
}
