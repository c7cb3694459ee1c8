// Scenario 3, the parent: writes through the shared library, then starts the child
// named on its command line, which reads through the library. The reference document's
// code (C++), with the child's exit code reported and stdout flushed before the child
// starts so that the transcript keeps its order.
#include <windows.h>
#include <tchar.h>
#include <stdio.h>

extern "C" VOID __cdecl SetSharedMem(LPWSTR lpszBuf);

HANDLE CreateChildProcess(LPTSTR szCmdline)
{
   PROCESS_INFORMATION piProcInfo;
   STARTUPINFO siStartInfo;
   BOOL bFuncRetn = FALSE;

   ZeroMemory( &piProcInfo, sizeof(PROCESS_INFORMATION) );
   ZeroMemory( &siStartInfo, sizeof(STARTUPINFO) );
   siStartInfo.cb = sizeof(STARTUPINFO);

   bFuncRetn = CreateProcess(NULL,
      szCmdline,     // command line
      NULL,          // process security attributes
      NULL,          // primary thread security attributes
      TRUE,          // handles are inherited
      0,             // creation flags
      NULL,          // use parent's environment
      NULL,          // use parent's current directory
      &siStartInfo,  // STARTUPINFO pointer
      &piProcInfo);  // receives PROCESS_INFORMATION

   if (bFuncRetn == 0)
   {
      printf("CreateProcess failed (%u)\n", (unsigned)GetLastError());
      return INVALID_HANDLE_VALUE;
   }
   else
   {
      CloseHandle(piProcInfo.hThread);
      return piProcInfo.hProcess;
   }
}

int _tmain(int argc, TCHAR *argv[])
{
   HANDLE hProcess;

   if (argc == 1)
   {
      printf("Please specify an input file");
      ExitProcess(0);
   }

   // Call the DLL function
   printf("\nProcess is writing to shared memory...\n\n");
   fflush(stdout);
   SetSharedMem((LPWSTR)L"This is a test string");

   // Start the child process that will read the memory
   hProcess = CreateChildProcess(argv[1]);

   // Ensure this process is around until the child process terminates
   if (INVALID_HANDLE_VALUE != hProcess)
   {
      DWORD code = 1;
      WaitForSingleObject(hProcess, INFINITE);
      GetExitCodeProcess(hProcess, &code);
      printf("Parent: the child exited with code %u\n", (unsigned)code);
      CloseHandle(hProcess);
   }
   return 0;
}
