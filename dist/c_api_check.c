/* The installed NCrypt headers are C headers too: this C11 program (built with -pedantic and
 * the project's warnings, linked to libcng-ncrypt.so) creates, finalizes, reopens and deletes
 * a persisted key. Run by ctest with a temporary CNG_PKCS11_USER_DIR. */
#include <ncrypt.h>
#include <stdio.h>

#define CHECK(call)                                                     \
  do {                                                                  \
    SECURITY_STATUS status_ = (call);                                   \
    if (status_ != 0) {                                                 \
      fprintf(stderr, "%s: 0x%08x\n", #call, (unsigned)status_);        \
      return 1;                                                         \
    }                                                                   \
  } while (0)

int main(void) {
  NCRYPT_PROV_HANDLE provider = 0;
  NCRYPT_KEY_HANDLE key = 0;
  DWORD length = 2048;
  CHECK(NCryptOpenStorageProvider(&provider, MS_KEY_STORAGE_PROVIDER, 0));
  CHECK(NCryptCreatePersistedKey(provider, &key, NCRYPT_RSA_ALGORITHM, u"c-api-check", 0,
                                 NCRYPT_OVERWRITE_KEY_FLAG));
  CHECK(NCryptSetProperty(key, NCRYPT_LENGTH_PROPERTY, (PBYTE)&length, sizeof length, 0));
  CHECK(NCryptFinalizeKey(key, 0));
  CHECK(NCryptFreeObject(key));
  key = 0;
  CHECK(NCryptOpenKey(provider, &key, u"c-api-check", 0, 0));
  CHECK(NCryptDeleteKey(key, 0));
  CHECK(NCryptFreeObject(provider));
  puts("C API: create, finalize, open, delete: OK");
  return 0;
}
