// Cryptographic functions: every Init / single-part / Update / Final is its own operation, so
// inputs compose multi-part sequences, break them off, and interleave them across sessions.
#include "abi/ops.h"
#include "abi/oracle.h"

namespace fuzz::abi {

namespace {

// Which of the four operation families an op works on.
enum Family { kEncrypt, kDecrypt, kSign, kVerify };

Family family(State& st) { return static_cast<Family>(st.in.ConsumeIntegralInRange(0, 3)); }

void init(State& st) {
  const CK_SESSION_HANDLE s = st.session();
  Mechanism m = st.mechanism();
  CK_MECHANISM* mp = st.in.ConsumeIntegralInRange(0, 15) == 0 ? nullptr : m.ptr();
  const CK_OBJECT_HANDLE key = st.object();
  switch (st.in.ConsumeIntegralInRange(0, 9)) {
    case 0:
      ABI_CALL(st, C_EncryptInit, s, mp, key);
      break;
    case 1:
      ABI_CALL(st, C_DecryptInit, s, mp, key);
      break;
    case 2:
      ABI_CALL(st, C_SignInit, s, mp, key);
      break;
    case 3:
      ABI_CALL(st, C_VerifyInit, s, mp, key);
      break;
    case 4:
      ABI_CALL(st, C_DigestInit, s, mp);
      break;
    case 5:
      ABI_CALL(st, C_SignRecoverInit, s, mp, key);
      break;
    case 6:
      ABI_CALL(st, C_VerifyRecoverInit, s, mp, key);
      break;
    case 7:
      ABI_CALL(st, C_MessageEncryptInit, s, mp, key);
      break;
    case 8:
      ABI_CALL(st, C_MessageDecryptInit, s, mp, key);
      break;
    default:
      if (st.in.ConsumeBool()) {
        ABI_CALL(st, C_MessageSignInit, s, mp, key);
      } else {
        ABI_CALL(st, C_MessageVerifyInit, s, mp, key);
      }
  }
}

void single(State& st) {
  const CK_SESSION_HANDLE s = st.session();
  Buffer data = st.bytes(300);
  Out out = st.out();
  CK_ULONG* len = st.in.ConsumeIntegralInRange(0, 15) == 0 ? nullptr : &out.len;
  CK_BYTE* in = data.empty() && st.in.ConsumeBool() ? nullptr : data.data();
  switch (st.in.ConsumeIntegralInRange(0, 5)) {
    case 0:
      ABI_CALL(st, C_Encrypt, s, in, data.size(), out.ptr(), len);
      break;
    case 1:
      ABI_CALL(st, C_Decrypt, s, in, data.size(), out.ptr(), len);
      break;
    case 2:
      ABI_CALL(st, C_Sign, s, in, data.size(), out.ptr(), len);
      break;
    case 3: {
      Buffer sig = st.bytes(140);
      ABI_CALL(st, C_Verify, s, in, data.size(), sig.data(), sig.size());
      break;
    }
    case 4:
      ABI_CALL(st, C_Digest, s, in, data.size(), out.ptr(), len);
      break;
    default:
      if (st.in.ConsumeBool()) {
        ABI_CALL(st, C_SignRecover, s, in, data.size(), out.ptr(), len);
      } else {
        ABI_CALL(st, C_VerifyRecover, s, in, data.size(), out.ptr(), len);
      }
  }
}

void update(State& st) {
  const CK_SESSION_HANDLE s = st.session();
  Buffer data = st.bytes(200);
  Out out = st.out();
  CK_ULONG* len = st.in.ConsumeIntegralInRange(0, 15) == 0 ? nullptr : &out.len;
  switch (st.in.ConsumeIntegralInRange(0, 5)) {
    case 0:
      ABI_CALL(st, C_EncryptUpdate, s, data.data(), data.size(), out.ptr(), len);
      break;
    case 1:
      ABI_CALL(st, C_DecryptUpdate, s, data.data(), data.size(), out.ptr(), len);
      break;
    case 2:
      ABI_CALL(st, C_SignUpdate, s, data.data(), data.size());
      break;
    case 3:
      ABI_CALL(st, C_VerifyUpdate, s, data.data(), data.size());
      break;
    case 4:
      ABI_CALL(st, C_DigestUpdate, s, data.data(), data.size());
      break;
    default:
      ABI_CALL(st, C_DigestKey, s, st.object());
  }
}

void final(State& st) {
  const CK_SESSION_HANDLE s = st.session();
  Out out = st.out();
  CK_ULONG* len = st.in.ConsumeIntegralInRange(0, 15) == 0 ? nullptr : &out.len;
  switch (st.in.ConsumeIntegralInRange(0, 4)) {
    case 0:
      ABI_CALL(st, C_EncryptFinal, s, out.ptr(), len);
      break;
    case 1:
      ABI_CALL(st, C_DecryptFinal, s, out.ptr(), len);
      break;
    case 2:
      ABI_CALL(st, C_SignFinal, s, out.ptr(), len);
      break;
    case 3: {
      Buffer sig = st.bytes(140);
      ABI_CALL(st, C_VerifyFinal, s, sig.data(), sig.size());
      break;
    }
    default:
      ABI_CALL(st, C_DigestFinal, s, out.ptr(), len);
  }
}

void dual(State& st) {
  const CK_SESSION_HANDLE s = st.session();
  Buffer data = st.bytes(64);
  Out out = st.out(128);
  switch (family(st)) {
    case kEncrypt:
      ABI_CALL(st, C_DigestEncryptUpdate, s, data.data(), data.size(), out.ptr(), &out.len);
      break;
    case kDecrypt:
      ABI_CALL(st, C_DecryptDigestUpdate, s, data.data(), data.size(), out.ptr(), &out.len);
      break;
    case kSign:
      ABI_CALL(st, C_SignEncryptUpdate, s, data.data(), data.size(), out.ptr(), &out.len);
      break;
    case kVerify:
      ABI_CALL(st, C_DecryptVerifyUpdate, s, data.data(), data.size(), out.ptr(), &out.len);
  }
  ABI_CALL(st, C_GetFunctionStatus, st.session());
  ABI_CALL(st, C_CancelFunction, st.session());
}

// Message-based functions. Their parameters (e.g. CK_GCM_MESSAGE_PARAMS) hold pointers, so the
// harness passes only NULL or buffers shorter than any such structure: to be rejected unread.
void message(State& st) {
  const CK_SESSION_HANDLE s = st.session();
  Buffer param = st.bytes(15);
  CK_VOID_PTR pp = param.empty() ? nullptr : param.data();
  Buffer aad = st.bytes(32);
  Buffer data = st.bytes(64);
  Out out = st.out(128);
  const CK_FLAGS flags = st.in.ConsumeBool() ? CKF_END_OF_MESSAGE : 0;
  switch (st.in.ConsumeIntegralInRange(0, 11)) {
    case 0:
      ABI_CALL(st, C_EncryptMessage, s, pp, param.size(), aad.data(), aad.size(), data.data(),
               data.size(), out.ptr(), &out.len);
      break;
    case 1:
      ABI_CALL(st, C_EncryptMessageBegin, s, pp, param.size(), aad.data(), aad.size());
      break;
    case 2:
      ABI_CALL(st, C_EncryptMessageNext, s, pp, param.size(), data.data(), data.size(), out.ptr(),
               &out.len, flags);
      break;
    case 3:
      ABI_CALL(st, C_DecryptMessage, s, pp, param.size(), aad.data(), aad.size(), data.data(),
               data.size(), out.ptr(), &out.len);
      break;
    case 4:
      ABI_CALL(st, C_DecryptMessageBegin, s, pp, param.size(), aad.data(), aad.size());
      break;
    case 5:
      ABI_CALL(st, C_DecryptMessageNext, s, pp, param.size(), data.data(), data.size(), out.ptr(),
               &out.len, flags);
      break;
    case 6:
      ABI_CALL(st, C_SignMessage, s, pp, param.size(), data.data(), data.size(), out.ptr(),
               &out.len);
      break;
    case 7:
      ABI_CALL(st, C_SignMessageBegin, s, pp, param.size());
      break;
    case 8:
      ABI_CALL(st, C_SignMessageNext, s, pp, param.size(), data.data(), data.size(),
               st.in.ConsumeBool() ? out.ptr() : nullptr, &out.len);
      break;
    case 9:
      ABI_CALL(st, C_VerifyMessage, s, pp, param.size(), data.data(), data.size(), aad.data(),
               aad.size());
      break;
    case 10:
      ABI_CALL(st, C_VerifyMessageNext, s, pp, param.size(), data.data(), data.size(), aad.data(),
               aad.size());
      break;
    default:
      switch (family(st)) {
        case kEncrypt:
          ABI_CALL(st, C_MessageEncryptFinal, s);
          break;
        case kDecrypt:
          ABI_CALL(st, C_MessageDecryptFinal, s);
          break;
        case kSign:
          ABI_CALL(st, C_MessageSignFinal, s);
          break;
        case kVerify:
          ABI_CALL(st, C_VerifyMessageBegin, s, pp, param.size());
          ABI_CALL(st, C_MessageVerifyFinal, s);
      }
  }
}

void generate_key(State& st) {
  Mechanism m = st.mechanism();
  if (st.in.ConsumeBool()) {
    m.mech = {CKM_AES_KEY_GEN, nullptr, 0};
  }
  Template t = st.attributes(st.in.ConsumeBool() ? CKO_SECRET_KEY : CK_UNAVAILABLE_INFORMATION);
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  if (ABI_CALL(st, C_GenerateKey, st.session(), m.ptr(), t.ptr(), t.count(), &h) == CKR_OK) {
    st.remember(h);
  }
}

void generate_key_pair(State& st) {
  Mechanism m = st.mechanism();
  if (st.in.ConsumeBool()) {
    m.mech = {CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  }
  Template pub = st.attributes(st.in.ConsumeBool() ? CKO_PUBLIC_KEY : CK_UNAVAILABLE_INFORMATION);
  Template priv = st.attributes(st.in.ConsumeBool() ? CKO_PRIVATE_KEY : CK_UNAVAILABLE_INFORMATION);
  CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE hpriv = CK_INVALID_HANDLE;
  if (ABI_CALL(st, C_GenerateKeyPair, st.session(), m.ptr(), pub.ptr(), pub.count(), priv.ptr(),
               priv.count(), &hpub, &hpriv) == CKR_OK) {
    st.remember(hpub);
    st.remember(hpriv);
  }
}

void wrap_unwrap_derive(State& st) {
  Mechanism m = st.mechanism();
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  switch (st.in.ConsumeIntegralInRange(0, 2)) {
    case 0: {
      Out out = st.out();
      ABI_CALL(st, C_WrapKey, st.session(), m.ptr(), st.object(), st.object(), out.ptr(), &out.len);
      break;
    }
    case 1: {
      Buffer wrapped = st.bytes(200);
      Template t = st.attributes(st.in.ConsumeBool() ? CKO_SECRET_KEY : CK_UNAVAILABLE_INFORMATION);
      if (ABI_CALL(st, C_UnwrapKey, st.session(), m.ptr(), st.object(), wrapped.data(),
                   wrapped.size(), t.ptr(), t.count(), &h) == CKR_OK) {
        st.remember(h);
      }
      break;
    }
    default: {
      Template t = st.attributes(st.in.ConsumeBool() ? CKO_SECRET_KEY : CK_UNAVAILABLE_INFORMATION);
      if (ABI_CALL(st, C_DeriveKey, st.session(), m.ptr(), st.object(), t.ptr(), t.count(), &h) ==
          CKR_OK) {
        st.remember(h);
      }
    }
  }
}

void random(State& st) {
  Buffer b = st.bytes(64);
  if (st.in.ConsumeBool()) {
    ABI_CALL(st, C_SeedRandom, st.session(), b.empty() ? nullptr : b.data(), b.size());
  } else {
    ABI_CALL(st, C_GenerateRandom, st.session(), b.empty() ? nullptr : b.data(), b.size());
  }
}

constexpr Op kOps[] = {init,
                       init,
                       single,
                       update,
                       update,
                       final,
                       dual,
                       message,
                       generate_key,
                       generate_key,
                       generate_key_pair,
                       wrap_unwrap_derive,
                       random};

}  // namespace

std::span<const Op> crypto_ops() { return kOps; }

}  // namespace fuzz::abi
