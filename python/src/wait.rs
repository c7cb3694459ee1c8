//! Blocking calls from Python: the GIL released while they wait, and Ctrl-C honoured.
//!
//! Python runs signal handlers (KeyboardInterrupt for Ctrl-C) only in the main thread and
//! only when it holds the GIL, so a wait is cut into slices: each slice waits with the
//! GIL released, and between two slices the thread takes the GIL back to run pending
//! handlers. A signal thus ends a wait within one slice; a wake-up is not delayed at all
//! (the library's own wait returns at once).

use crate::py_err;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::time::{Duration, Instant};

/// The longest a blocking call waits without a look for pending signals.
const SLICE: Duration = Duration::from_millis(50);

/// A timeout argument in seconds: `None` waits for ever; a negative or non-finite number
/// is a ValueError (a `bool` or `str` is a TypeError, from the conversion).
pub(crate) fn timeout_arg(seconds: Option<f64>) -> PyResult<Option<Duration>> {
    match seconds {
        None => Ok(None),
        Some(s) if s.is_nan() || s < 0.0 => Err(PyValueError::new_err(format!(
            "timeout must be None or a number of seconds >= 0, not {s}"
        ))),
        // Longer than an Instant can hold is for ever.
        Some(s) => Ok(Duration::try_from_secs_f64(s).ok()),
    }
}

/// Runs `step` (one wait of at most the slice it is given, `Ok(None)` when nothing came)
/// until it returns something, the `timeout` passes (`Ok(None)`) or a signal handler
/// raises. `timeout` zero polls once. Errors are raised naming `what`.
pub(crate) fn blocking<T: Send>(
    py: Python<'_>,
    timeout: Option<Duration>,
    what: Option<&str>,
    mut step: impl FnMut(Duration) -> shmkit::Result<Option<T>> + Send,
) -> PyResult<Option<T>> {
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    loop {
        let slice = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()).min(SLICE),
            None => SLICE,
        };
        let got = py
            .allow_threads(|| step(slice))
            .map_err(|e| py_err(e, what))?;
        if got.is_some() {
            return Ok(got);
        }
        py.check_signals()?;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(None);
        }
    }
}
