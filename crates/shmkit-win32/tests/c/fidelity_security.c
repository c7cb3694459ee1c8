/*
 * Fidelity: security attributes. Descriptors built with InitializeSecurityDescriptor,
 * InitializeAcl, AddAccessAllowedAce and SetSecurityDescriptorDacl (for Everyone, made
 * with AllocateAndInitializeSid and with CreateWellKnownSid), a NULL DACL, and SDDL
 * strings through ConvertStringSecurityDescriptorToSecurityDescriptor{A,W}; what the
 * building functions report; objects created with each descriptor, then opened again;
 * descriptors that are malformed fail with the same error everywhere.
 *
 * Natively the descriptor becomes the object's permissions (tests/c_api.rs checks the
 * mode bits and what a second user may open); this transcript shows what a program
 * observes, which Windows, Wine and this library agree on.
 * Usage: fidelity_security SUFFIX (object names carry it).
 */
#include "fidelity.h"
#include <sddl.h>
#include <stdio.h>
#include <string.h>

static const char *suffix;

/* Creates a mapping, a mutex, an event and a semaphore with `sa`, checks each is new,
 * opens each by name (when `open` is set), and closes everything. */
static void create_all(const char *tag, SECURITY_ATTRIBUTES *sa, int open) {
    char name[160], what[200];
    HANDLE h[4], o;
    const char *kinds[4] = {"mapping", "mutex", "event", "semaphore"};
    int i;
    for (i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "fidelity-security-%s-%s-%s", tag, kinds[i], suffix);
        SetLastError(0xdeadbeef);
        switch (i) {
        case 0: h[i] = CreateFileMappingA(INVALID_HANDLE_VALUE, sa, PAGE_READWRITE, 0, 4096, name); break;
        case 1: h[i] = CreateMutexA(sa, FALSE, name); break;
        case 2: h[i] = CreateEventA(sa, TRUE, FALSE, name); break;
        default: h[i] = CreateSemaphoreA(sa, 0, 1, name); break;
        }
        snprintf(what, sizeof what, "%s: create the %s", tag, kinds[i]);
        check(h[i] != NULL && GetLastError() == 0, what);
        if (!open)
            continue;
        switch (i) {
        case 0: o = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, name); break;
        case 1: o = OpenMutexA(MUTEX_ALL_ACCESS, FALSE, name); break;
        case 2: o = OpenEventA(EVENT_ALL_ACCESS, FALSE, name); break;
        default: o = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name); break;
        }
        snprintf(what, sizeof what, "%s: open the %s with all access", tag, kinds[i]);
        check(o != NULL, what);
        if (i == 0 && o) {
            char *view = (char *)MapViewOfFile(o, FILE_MAP_WRITE, 0, 0, 0);
            snprintf(what, sizeof what, "%s: map the opened mapping for writing", tag);
            check(view != NULL, what);
            if (view)
                UnmapViewOfFile(view);
        }
        if (o)
            CloseHandle(o);
    }
    for (i = 0; i < 4; i++)
        if (h[i])
            CloseHandle(h[i]);
}

int main(int argc, char **argv) {
    SECURITY_DESCRIPTOR sd;
    SECURITY_ATTRIBUTES sa;
    SID_IDENTIFIER_AUTHORITY world_auth = {SECURITY_WORLD_SID_AUTHORITY};
    SID_IDENTIFIER_AUTHORITY nt_auth = {SECURITY_NT_AUTHORITY};
    PSID world = NULL, admins = NULL, parsed = NULL;
    BYTE known[SECURITY_MAX_SID_SIZE];
    DWORD known_len = sizeof known, len, rev;
    BYTE acl_buf[256];
    PACL acl = (PACL)acl_buf;
    ACL_SIZE_INFORMATION size_info;
    ACCESS_ALLOWED_ACE *ace = NULL;
    PSECURITY_DESCRIPTOR rel = NULL;
    ULONG rel_len = 0;
    SECURITY_DESCRIPTOR_CONTROL control = 0;
    BOOL present = FALSE, defaulted = TRUE;
    PACL dacl = NULL;
    char *text = NULL;
    suffix = argc > 1 ? argv[1] : "x";

    printf("-- SIDs\n");
    check(AllocateAndInitializeSid(&world_auth, 1, SECURITY_WORLD_RID, 0, 0, 0, 0, 0, 0, 0, &world), "AllocateAndInitializeSid(Everyone)");
    check(IsValidSid(world) && GetLengthSid(world) == 12, "Everyone is valid, 12 bytes");
    check(*GetSidSubAuthorityCount(world) == 1 && *GetSidSubAuthority(world, 0) == SECURITY_WORLD_RID, "its sub-authority");
    check(GetSidIdentifierAuthority(world)->Value[5] == 1, "its authority");
    check(AllocateAndInitializeSid(&nt_auth, 2, SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS, 0, 0, 0, 0, 0, 0, &admins),
          "AllocateAndInitializeSid(Administrators)");
    check(ConvertSidToStringSidA(admins, &text) && strcmp(text, "S-1-5-32-544") == 0, "ConvertSidToStringSid(Administrators)");
    if (text)
        LocalFree(text);
    check(CreateWellKnownSid(WinWorldSid, NULL, known, &known_len) && known_len == 12, "CreateWellKnownSid(WinWorldSid)");
    check(EqualSid(world, known), "both Everyone SIDs are equal");
    check(IsWellKnownSid(world, WinWorldSid) && !IsWellKnownSid(admins, WinWorldSid), "IsWellKnownSid");
    check(!EqualSid(world, admins), "Everyone is not Administrators");
    len = 4;
    SetLastError(0xdeadbeef);
    expect_error(!CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, known, &len), ERROR_INSUFFICIENT_BUFFER,
                 "CreateWellKnownSid into 4 bytes");
    check(len == 16, "it needs 16 bytes");
    check(ConvertStringSidToSidA("S-1-1-0", &parsed) && EqualSid(parsed, world), "ConvertStringSidToSid(S-1-1-0)");
    if (parsed)
        LocalFree(parsed);
    parsed = NULL;
    check(ConvertStringSidToSidA("BA", &parsed) && EqualSid(parsed, admins), "ConvertStringSidToSid(BA)");
    if (parsed)
        LocalFree(parsed);
    SetLastError(0xdeadbeef);
    expect_error(!ConvertStringSidToSidA("S-1-x", &parsed), ERROR_INVALID_SID, "ConvertStringSidToSid(S-1-x)");
    check(GetSidLengthRequired(2) == 16, "GetSidLengthRequired(2)");

    printf("-- ACLs\n");
    len = sizeof(ACL) + sizeof(ACCESS_ALLOWED_ACE) - sizeof(DWORD) + GetLengthSid(world);
    check(len == 28, "an ACL for one entry for Everyone takes 28 bytes");
    check(InitializeAcl(acl, len, ACL_REVISION), "InitializeAcl");
    check(IsValidAcl(acl) && acl->AceCount == 0 && acl->AclSize == 28, "it is valid and empty");
    check(AddAccessAllowedAce(acl, ACL_REVISION, GENERIC_ALL, world), "AddAccessAllowedAce(Everyone, GENERIC_ALL)");
    check(GetAclInformation(acl, &size_info, sizeof size_info, AclSizeInformation) && size_info.AceCount == 1 &&
              size_info.AclBytesInUse == 28 && size_info.AclBytesFree == 0,
          "GetAclInformation: 1 entry, 28 bytes used, none free");
    check(GetAce(acl, 0, (LPVOID *)&ace) && ace->Header.AceType == ACCESS_ALLOWED_ACE_TYPE &&
              ace->Header.AceSize == 20 && ace->Mask == GENERIC_ALL && EqualSid((PSID)&ace->SidStart, world),
          "GetAce(0)");
    SetLastError(0xdeadbeef);
    expect_error(!GetAce(acl, 1, (LPVOID *)&ace), ERROR_INVALID_PARAMETER, "GetAce(1)");
    SetLastError(0xdeadbeef);
    expect_error(!AddAccessAllowedAce(acl, ACL_REVISION, GENERIC_READ, world), ERROR_ALLOTTED_SPACE_EXCEEDED,
                 "another entry does not fit");
    SetLastError(0xdeadbeef);
    expect_error(!InitializeAcl((PACL)acl_buf, 4, ACL_REVISION), ERROR_INSUFFICIENT_BUFFER, "InitializeAcl of 4 bytes");
    check(InitializeAcl(acl, len, ACL_REVISION) && AddAccessAllowedAce(acl, ACL_REVISION, GENERIC_ALL, world), "rebuild the ACL");

    printf("-- descriptors\n");
    SetLastError(0xdeadbeef);
    expect_error(!InitializeSecurityDescriptor(&sd, 2), ERROR_UNKNOWN_REVISION, "InitializeSecurityDescriptor(revision 2)");
    check(InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION), "InitializeSecurityDescriptor");
    check(IsValidSecurityDescriptor(&sd), "it is valid");
    check(GetSecurityDescriptorControl(&sd, &control, &rev) && control == 0 && rev == 1, "no control bits, revision 1");
    check(GetSecurityDescriptorDacl(&sd, &present, &dacl, &defaulted) && !present, "no DACL");
    check(GetSecurityDescriptorLength(&sd) == SECURITY_DESCRIPTOR_MIN_LENGTH, "its length is SECURITY_DESCRIPTOR_MIN_LENGTH");
    sa.nLength = sizeof sa;
    sa.lpSecurityDescriptor = &sd;
    sa.bInheritHandle = FALSE;
    create_all("no-dacl", &sa, 1);

    check(SetSecurityDescriptorDacl(&sd, TRUE, NULL, FALSE), "SetSecurityDescriptorDacl(TRUE, NULL): a NULL DACL");
    check(GetSecurityDescriptorDacl(&sd, &present, &dacl, &defaulted) && present && dacl == NULL && !defaulted, "the NULL DACL is present");
    check(GetSecurityDescriptorControl(&sd, &control, &rev) && control == SE_DACL_PRESENT, "control: SE_DACL_PRESENT");
    create_all("null-dacl", &sa, 1);

    check(SetSecurityDescriptorDacl(&sd, TRUE, acl, FALSE), "SetSecurityDescriptorDacl(Everyone: GENERIC_ALL)");
    check(GetSecurityDescriptorDacl(&sd, &present, &dacl, &defaulted) && present && dacl == acl, "the DACL is the ACL");
    check(GetSecurityDescriptorLength(&sd) == SECURITY_DESCRIPTOR_MIN_LENGTH + 28, "the length counts the ACL");
    create_all("everyone", &sa, 1);

    check(InitializeAcl(acl, sizeof acl_buf, ACL_REVISION) && AddAccessAllowedAce(acl, ACL_REVISION, GENERIC_ALL, admins) &&
              AddAccessAllowedAce(acl, ACL_REVISION, FILE_MAP_ALL_ACCESS | SYNCHRONIZE, known),
          "an ACL for Administrators and Everyone (specific rights)");
    known_len = sizeof known;
    check(CreateWellKnownSid(WinWorldSid, NULL, known, &known_len), "(Everyone again)");
    check(GetAclInformation(acl, &size_info, sizeof size_info, AclSizeInformation) && size_info.AceCount == 2 &&
              size_info.AclBytesInUse == 8 + 24 + 20,
          "2 entries, 52 bytes used");
    check(SetSecurityDescriptorDacl(&sd, TRUE, acl, FALSE), "set it");
    create_all("admins-everyone", &sa, 0);

    check(SetSecurityDescriptorDacl(&sd, FALSE, NULL, FALSE), "SetSecurityDescriptorDacl(FALSE): no DACL again");
    check(GetSecurityDescriptorDacl(&sd, &present, &dacl, &defaulted) && !present, "no DACL");
    check(SetSecurityDescriptorControl(&sd, SE_DACL_PROTECTED, SE_DACL_PROTECTED), "SetSecurityDescriptorControl(SE_DACL_PROTECTED)");
    check(GetSecurityDescriptorControl(&sd, &control, &rev) && control == SE_DACL_PROTECTED, "control: SE_DACL_PROTECTED");
    SetLastError(0xdeadbeef);
    expect_error(!SetSecurityDescriptorControl(&sd, SE_DACL_PRESENT, SE_DACL_PRESENT), ERROR_INVALID_PARAMETER,
                 "SetSecurityDescriptorControl(SE_DACL_PRESENT)");

    printf("-- SDDL\n");
    check(ConvertStringSecurityDescriptorToSecurityDescriptorA("D:(A;;GA;;;WD)", SDDL_REVISION_1, &rel, &rel_len) && rel_len == 48,
          "D:(A;;GA;;;WD): 48 bytes");
    check(IsValidSecurityDescriptor(rel) && GetSecurityDescriptorLength(rel) == 48, "valid, GetSecurityDescriptorLength 48");
    check(GetSecurityDescriptorControl(rel, &control, &rev) && control == (SE_DACL_PRESENT | SE_SELF_RELATIVE), "self-relative, DACL present");
    check(GetSecurityDescriptorDacl(rel, &present, &dacl, &defaulted) && present && dacl && dacl->AceCount == 1, "one entry");
    check(dacl && GetAce(dacl, 0, (LPVOID *)&ace) && ace->Mask == GENERIC_ALL && EqualSid((PSID)&ace->SidStart, world),
          "Everyone: GENERIC_ALL");
    SetLastError(0xdeadbeef);
    expect_error(!SetSecurityDescriptorDacl(rel, TRUE, NULL, FALSE), ERROR_INVALID_SECURITY_DESCR,
                 "SetSecurityDescriptorDacl on a self-relative descriptor");
    sa.lpSecurityDescriptor = rel;
    create_all("sddl-everyone", &sa, 1);
    check(LocalFree(rel) == NULL, "LocalFree returns NULL");

    rel = NULL;
    check(ConvertStringSecurityDescriptorToSecurityDescriptorW(L"D:P(A;;GA;;;SY)(A;;GA;;;BA)", SDDL_REVISION_1, &rel, &rel_len) &&
              rel_len == 72,
          "D:P(A;;GA;;;SY)(A;;GA;;;BA) (wide): 72 bytes");
    check(GetSecurityDescriptorControl(rel, &control, &rev) && control == (SE_DACL_PRESENT | SE_DACL_PROTECTED | SE_SELF_RELATIVE),
          "protected, self-relative");
    check(GetSecurityDescriptorDacl(rel, &present, &dacl, &defaulted) && dacl && dacl->AceCount == 2, "two entries");
    check(dacl && GetAce(dacl, 1, (LPVOID *)&ace) && EqualSid((PSID)&ace->SidStart, admins), "the second is Administrators");
    sa.lpSecurityDescriptor = rel;
    create_all("sddl-system-admins", &sa, 0);
    LocalFree(rel);

    {
        static const struct {
            const char *sddl;
            DWORD mask;
            const char *sid;
        } rights[] = {
            {"D:(A;;FA;;;WD)", FILE_ALL_ACCESS, "S-1-1-0"},
            {"D:(A;;FR;;;AU)", FILE_GENERIC_READ, "S-1-5-11"},
            {"D:(A;;FW;;;BU)", FILE_GENERIC_WRITE, "S-1-5-32-545"},
            {"D:(A;;GRGW;;;OW)", GENERIC_READ | GENERIC_WRITE, "S-1-3-4"},
            {"D:(A;;GX;;;CO)", GENERIC_EXECUTE, "S-1-3-0"},
            {"D:(A;;0x1f0003;;;SY)", EVENT_ALL_ACCESS, "S-1-5-18"},
            {"D:(D;;GW;;;WD)(A;;GA;;;WD)", GENERIC_WRITE, "S-1-1-0"},
        };
        int i;
        for (i = 0; i < (int)(sizeof rights / sizeof rights[0]); i++) {
            char what[160];
            rel = NULL;
            ace = NULL;
            text = NULL;
            snprintf(what, sizeof what, "%s: the first entry's mask and SID", rights[i].sddl);
            check(ConvertStringSecurityDescriptorToSecurityDescriptorA(rights[i].sddl, SDDL_REVISION_1, &rel, NULL) &&
                      GetSecurityDescriptorDacl(rel, &present, &dacl, &defaulted) && dacl && GetAce(dacl, 0, (LPVOID *)&ace) &&
                      ace->Mask == rights[i].mask && ConvertSidToStringSidA((PSID)&ace->SidStart, &text) &&
                      strcmp(text, rights[i].sid) == 0,
                  what);
            if (text)
                LocalFree(text);
            if (rel)
                LocalFree(rel);
        }
    }
    rel = NULL;
    check(ConvertStringSecurityDescriptorToSecurityDescriptorA("D:(D;;GW;;;WD)(A;;GA;;;WD)", SDDL_REVISION_1, &rel, NULL),
          "everyone may read, nobody write");
    sa.lpSecurityDescriptor = rel;
    create_all("sddl-read-only", &sa, 0);
    LocalFree(rel);

    SetLastError(0xdeadbeef);
    expect_error(!ConvertStringSecurityDescriptorToSecurityDescriptorA("D:(A;;GA;;;WD)", 0, &rel, NULL), ERROR_UNKNOWN_REVISION,
                 "SDDL revision 0");
    SetLastError(0xdeadbeef);
    expect_error(!ConvertStringSecurityDescriptorToSecurityDescriptorA("D:(A;;GA;;;WDD)", SDDL_REVISION_1, &rel, NULL),
                 ERROR_INVALID_ACL, "an unknown SID alias");
    SetLastError(0xdeadbeef);
    expect_error(!ConvertStringSecurityDescriptorToSecurityDescriptorA("D:(A;;XYZ;;;WD)", SDDL_REVISION_1, &rel, NULL),
                 ERROR_INVALID_ACL, "an unknown right");
    SetLastError(0xdeadbeef);
    expect_error(!ConvertStringSecurityDescriptorToSecurityDescriptorA("D:(A;;GA;;WD)", SDDL_REVISION_1, &rel, NULL),
                 ERROR_INVALID_ACL, "an entry with a field missing");
    SetLastError(0xdeadbeef);
    expect_error(!ConvertStringSecurityDescriptorToSecurityDescriptorA("X:(A;;GA;;;WD)", SDDL_REVISION_1, &rel, NULL),
                 ERROR_INVALID_PARAMETER, "an unknown part");

    {
        /* A descriptor of revision 0 (all zeros) is refused by every create call. */
        SECURITY_DESCRIPTOR zero;
        char name[128];
        memset(&zero, 0, sizeof zero);
        sa.lpSecurityDescriptor = &zero;
        snprintf(name, sizeof name, "fidelity-security-zero-%s", suffix);
        SetLastError(0xdeadbeef);
        expect_error(CreateMutexA(&sa, FALSE, name) == NULL, ERROR_UNKNOWN_REVISION, "CreateMutex with a descriptor of revision 0");
        SetLastError(0xdeadbeef);
        expect_error(CreateFileMappingA(INVALID_HANDLE_VALUE, &sa, PAGE_READWRITE, 0, 4096, name) == NULL, ERROR_UNKNOWN_REVISION,
                     "CreateFileMapping with a descriptor of revision 0");
        SetLastError(0xdeadbeef);
        expect_error(CreateEventA(&sa, TRUE, FALSE, name) == NULL, ERROR_UNKNOWN_REVISION, "CreateEvent with a descriptor of revision 0");
        SetLastError(0xdeadbeef);
        expect_error(CreateSemaphoreA(&sa, 0, 1, name) == NULL, ERROR_UNKNOWN_REVISION,
                     "CreateSemaphore with a descriptor of revision 0");
    }

    FreeSid(world);
    FreeSid(admins);
    printf("fidelity_security: %d failed\n", failures);
    return failures != 0;
}
