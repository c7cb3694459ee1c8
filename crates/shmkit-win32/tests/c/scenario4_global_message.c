/*
 * Scenario 4: two unrelated processes share Global\MyFileMappingObject (256 bytes).
 * The first creates it, writes its message and starts the second (without handle
 * inheritance: the name is all they share), then waits for a key (_getch) before it
 * closes; the second opens the object by name and shows the message in a message box
 * (on a console: "Process2: ..."). The reference document's two programs in one, with
 * a per-run name suffix. Built with UNICODE and _UNICODE.
 *
 * Usage: scenario4_global_message SUFFIX   (the second process: ... second SUFFIX)
 */
#include <windows.h>
#include <stdio.h>
#include <conio.h>
#include <tchar.h>

#define BUF_SIZE 256
TCHAR szName[128];
TCHAR szMsg[] = TEXT("Message from first process.");

static int second_process(void)
{
   HANDLE hMapFile;
   LPCTSTR pBuf;

   hMapFile = OpenFileMapping(
                   FILE_MAP_ALL_ACCESS,   // read/write access
                   FALSE,                 // do not inherit the name
                   szName);               // name of mapping object

   if (hMapFile == NULL)
   {
      _tprintf(TEXT("Could not open file mapping object (%u).\n"),
             (unsigned)GetLastError());
      return 1;
   }

   pBuf = (LPTSTR) MapViewOfFile(hMapFile, // handle to map object
               FILE_MAP_ALL_ACCESS,  // read/write permission
               0,
               0,
               BUF_SIZE);

   if (pBuf == NULL)
   {
      _tprintf(TEXT("Could not map view of file (%u).\n"),
             (unsigned)GetLastError());
      CloseHandle(hMapFile);
      return 1;
   }

   MessageBox(NULL, pBuf, TEXT("Process2"), MB_OK);

   UnmapViewOfFile(pBuf);
   CloseHandle(hMapFile);
   return 0;
}

int _tmain(int argc, TCHAR *argv[])
{
   HANDLE hMapFile;
   LPCTSTR pBuf;
   TCHAR self[MAX_PATH], cmd[2 * MAX_PATH];
   STARTUPINFO si;
   PROCESS_INFORMATION pi;
   int key;

   if (argc < 2)
   {
      _tprintf(TEXT("usage: %s SUFFIX\n"), argv[0]);
      return 2;
   }
   wsprintf(szName, TEXT("Global\\MyFileMappingObject-%s"), argv[argc - 1]);
   if (argc == 3)
      return second_process();

   hMapFile = CreateFileMapping(
                 INVALID_HANDLE_VALUE,    // use paging file
                 NULL,                    // default security
                 PAGE_READWRITE,          // read/write access
                 0,                       // maximum object size (high-order DWORD)
                 BUF_SIZE,                // maximum object size (low-order DWORD)
                 szName);                 // name of mapping object

   if (hMapFile == NULL)
   {
      _tprintf(TEXT("Could not create file mapping object (%u).\n"),
             (unsigned)GetLastError());
      return 1;
   }
   pBuf = (LPTSTR) MapViewOfFile(hMapFile,   // handle to map object
                        FILE_MAP_ALL_ACCESS, // read/write permission
                        0,
                        0,
                        BUF_SIZE);

   if (pBuf == NULL)
   {
      _tprintf(TEXT("Could not map view of file (%u).\n"),
             (unsigned)GetLastError());
      CloseHandle(hMapFile);
      return 1;
   }

   CopyMemory((PVOID)pBuf, szMsg, (_tcslen(szMsg) * sizeof(TCHAR)));
   _tprintf(TEXT("Process1: wrote \"%s\"\n"), pBuf);

   GetModuleFileName(NULL, self, MAX_PATH);
   wsprintf(cmd, TEXT("\"%s\" second %s"), self, argv[1]);
   ZeroMemory(&si, sizeof(si));
   si.cb = sizeof(si);
   fflush(stdout);
   if (!CreateProcess(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
   {
      _tprintf(TEXT("CreateProcess failed (%u).\n"), (unsigned)GetLastError());
      return 1;
   }
   WaitForSingleObject(pi.hProcess, 30000);
   CloseHandle(pi.hThread);
   CloseHandle(pi.hProcess);

   key = _getch();
   _tprintf(TEXT("Process1: _getch returned %s\n"), key == EOF ? TEXT("EOF") : TEXT("a key"));

   UnmapViewOfFile(pBuf);
   CloseHandle(hMapFile);
   return 0;
}
