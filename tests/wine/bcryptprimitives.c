/* A stand-in for Windows' bcryptprimitives.dll, which Wine 8 lacks (Windows 10 and
   later have it): Rust's standard library draws its random numbers from ProcessPrng.
   Only the end-to-end tests under Wine use it; it draws on RtlGenRandom, which Wine has.
   Built with: x86_64-w64-mingw32-gcc -shared -o bcryptprimitives.dll bcryptprimitives.c */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
