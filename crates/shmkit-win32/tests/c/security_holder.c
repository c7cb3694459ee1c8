/*
 * The helper of tests/security.rs: creates an object with a security descriptor and
 * holds it, or opens one, and reports the outcome on one line.
 *   security_holder create KIND NAME DESCRIPTOR   prints "created" or "error N", then
 *                                                 holds the object until stdin closes
 *   security_holder open KIND NAME r|rw           prints "opened" or "error N"
 * KIND: mapping, mutex, event, semaphore. DESCRIPTOR: "-" (no SECURITY_ATTRIBUTES),
 * "null" (a NULL DACL, built with SetSecurityDescriptorDacl), "everyone" (a DACL built
 * with InitializeAcl and AddAccessAllowedAce granting Everyone GENERIC_READ |
 * GENERIC_WRITE), "zero" (an all-zero descriptor), or an SDDL string.
 */
#include <windows.h>
#include <sddl.h>
#include <stdio.h>
#include <string.h>

static HANDLE create(const char *kind, const char *name, SECURITY_ATTRIBUTES *sa) {
    if (strcmp(kind, "mapping") == 0)
        return CreateFileMappingA(INVALID_HANDLE_VALUE, sa, PAGE_READWRITE, 0, 4096, name);
    if (strcmp(kind, "mutex") == 0)
        return CreateMutexA(sa, FALSE, name);
    if (strcmp(kind, "event") == 0)
        return CreateEventA(sa, TRUE, FALSE, name);
    return CreateSemaphoreA(sa, 0, 1, name);
}

static HANDLE open_object(const char *kind, const char *name, int write) {
    if (strcmp(kind, "mapping") == 0) {
        HANDLE h = OpenFileMappingA(write ? FILE_MAP_WRITE : FILE_MAP_READ, FALSE, name);
        if (h) {
            void *view = MapViewOfFile(h, write ? FILE_MAP_WRITE : FILE_MAP_READ, 0, 0, 0);
            if (!view) {
                DWORD e = GetLastError();
                CloseHandle(h);
                SetLastError(e);
                return NULL;
            }
            UnmapViewOfFile(view);
        }
        return h;
    }
    if (strcmp(kind, "mutex") == 0)
        return OpenMutexA(write ? MUTEX_ALL_ACCESS : SYNCHRONIZE, FALSE, name);
    if (strcmp(kind, "event") == 0)
        return OpenEventA(write ? EVENT_MODIFY_STATE | SYNCHRONIZE : SYNCHRONIZE, FALSE, name);
    return OpenSemaphoreA(write ? SEMAPHORE_MODIFY_STATE | SYNCHRONIZE : SYNCHRONIZE, FALSE, name);
}

int main(int argc, char **argv) {
    SECURITY_DESCRIPTOR sd, zero;
    SECURITY_ATTRIBUTES sa = {sizeof sa, &sd, FALSE};
    SID_IDENTIFIER_AUTHORITY world_auth = {SECURITY_WORLD_SID_AUTHORITY};
    PSID world = NULL;
    BYTE acl_buf[64];
    PSECURITY_DESCRIPTOR parsed = NULL;
    HANDLE h;
    char line[16];
    if (argc != 5)
        return 2;
    if (strcmp(argv[1], "open") == 0) {
        h = open_object(argv[2], argv[3], strcmp(argv[4], "rw") == 0);
        if (h)
            printf("opened\n");
        else
            printf("error %u\n", (unsigned)GetLastError());
        return 0;
    }
    InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION);
    if (strcmp(argv[4], "-") == 0) {
        h = create(argv[2], argv[3], NULL);
    } else {
        if (strcmp(argv[4], "null") == 0) {
            SetSecurityDescriptorDacl(&sd, TRUE, NULL, FALSE);
        } else if (strcmp(argv[4], "everyone") == 0) {
            AllocateAndInitializeSid(&world_auth, 1, SECURITY_WORLD_RID, 0, 0, 0, 0, 0, 0, 0, &world);
            InitializeAcl((PACL)acl_buf, sizeof acl_buf, ACL_REVISION);
            AddAccessAllowedAce((PACL)acl_buf, ACL_REVISION, GENERIC_READ | GENERIC_WRITE, world);
            SetSecurityDescriptorDacl(&sd, TRUE, (PACL)acl_buf, FALSE);
        } else if (strcmp(argv[4], "zero") == 0) {
            memset(&zero, 0, sizeof zero);
            sa.lpSecurityDescriptor = &zero;
        } else {
            if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(argv[4], SDDL_REVISION_1, &parsed, NULL)) {
                printf("error %u\n", (unsigned)GetLastError());
                return 0;
            }
            sa.lpSecurityDescriptor = parsed;
        }
        h = create(argv[2], argv[3], &sa);
    }
    if (!h) {
        printf("error %u\n", (unsigned)GetLastError());
        return 0;
    }
    printf("created\n");
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) {
        /* stdin closed: done */
    }
    CloseHandle(h);
    if (parsed)
        LocalFree(parsed);
    if (world)
        FreeSid(world);
    return 0;
}
