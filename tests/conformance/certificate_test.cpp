// X.509 certificate objects: C_CreateObject (token and session), the searches clients make
// (subject, issuer+serial, value, id), attribute derivation, C_DestroyObject.
#include "ossl_support.h"
#include "p11_fixture.h"

namespace conf {
namespace {

class CertificateTest : public P11Test {
 protected:
  CK_OBJECT_HANDLE CreateCert(CK_SESSION_HANDLE s, const TestCert& c, bool token, const Bytes& id,
                              const std::string& label, bool with_names, CK_RV* rv_out = nullptr) {
    Template t;
    t.Ulong(CKA_CLASS, CKO_CERTIFICATE).Ulong(CKA_CERTIFICATE_TYPE, CKC_X_509);
    t.Bool(CKA_TOKEN, token).Raw(CKA_VALUE, c.der).Raw(CKA_ID, id).Str(CKA_LABEL, label);
    if (with_names) {
      t.Raw(CKA_SUBJECT, c.subject).Raw(CKA_ISSUER, c.issuer).Raw(CKA_SERIAL_NUMBER, c.serial);
    }
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    const CK_RV rv = f_->C_CreateObject(s, t.data(), t.size(), &h);
    if (rv_out != nullptr) {
      *rv_out = rv;
    } else {
      EXPECT_CKR(CKR_OK, rv);
    }
    return h;
  }
};

TEST_F(CertificateTest, TokenCertificateIsFoundEveryWayClientsLook) {
  CK_SESSION_HANDLE s = OpenSession();
  const TestCert cert = MakeSelfSignedCert("conformance cert");
  ASSERT_FALSE(cert.der.empty());
  const Bytes id = {0xC0, 0xDE};
  const CK_OBJECT_HANDLE h = CreateCert(s, cert, true, id, "my cert", true);
  ASSERT_NE(h, CK_INVALID_HANDLE);
  auto check_found = [&](Template& t, const char* how) {
    const auto found = Find(s, t);
    ASSERT_EQ(found.size(), 1u) << "search by " << how;
    EXPECT_EQ(GetBytes(s, found[0], CKA_VALUE), cert.der) << how;
  };
  Template by_subject;
  by_subject.Ulong(CKA_CLASS, CKO_CERTIFICATE).Raw(CKA_SUBJECT, cert.subject);
  Template by_issuer_serial;
  by_issuer_serial.Ulong(CKA_CLASS, CKO_CERTIFICATE).Raw(CKA_ISSUER, cert.issuer);
  by_issuer_serial.Raw(CKA_SERIAL_NUMBER, cert.serial);
  Template by_value;
  by_value.Ulong(CKA_CLASS, CKO_CERTIFICATE).Raw(CKA_VALUE, cert.der);
  Template by_id;
  by_id.Ulong(CKA_CLASS, CKO_CERTIFICATE).Raw(CKA_ID, id);
  Template by_type;
  by_type.Ulong(CKA_CERTIFICATE_TYPE, CKC_X_509);
  check_found(by_subject, "subject");
  check_found(by_issuer_serial, "issuer+serial");
  check_found(by_value, "value");
  check_found(by_id, "id");
  check_found(by_type, "certificate type");

  EXPECT_EQ(GetUlong(s, h, CKA_CLASS), CKO_CERTIFICATE);
  EXPECT_EQ(GetUlong(s, h, CKA_CERTIFICATE_TYPE), CKC_X_509);
  EXPECT_EQ(GetBytes(s, h, CKA_LABEL), ToBytes("my cert"));
  EXPECT_TRUE(GetBool(s, h, CKA_TOKEN));
  EXPECT_FALSE(GetBool(s, h, CKA_TRUSTED)) << "Java reads CKA_TRUSTED";
  EXPECT_FALSE(GetBool(s, h, CKA_PRIVATE)) << "certificates are public objects";

  // Persisted: visible after re-initialisation, not in the other scope's slot.
  Reinitialize();
  s = OpenSession();
  EXPECT_EQ(Find(s, by_issuer_serial).size(), 1u);
  const CK_SESSION_HANDLE m = OpenSession(kOtherScopeSlot);
  EXPECT_TRUE(Find(m, by_value).empty());

  // Destroy removes it for good.
  const auto found = Find(s, by_id);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_CKR(CKR_OK, f_->C_DestroyObject(s, found[0]));
  EXPECT_TRUE(Find(s, by_id).empty());
  Reinitialize();
  s = OpenSession();
  EXPECT_TRUE(Find(s, by_value).empty());
}

TEST_F(CertificateTest, SubjectIssuerSerialDerivedFromValue) {
  const CK_SESSION_HANDLE s = OpenSession();
  const TestCert cert = MakeSelfSignedCert("derived names");
  const CK_OBJECT_HANDLE h = CreateCert(s, cert, true, {1}, "derived", false);
  ASSERT_NE(h, CK_INVALID_HANDLE);
  EXPECT_EQ(Hex(GetBytes(s, h, CKA_SUBJECT)), Hex(cert.subject));
  EXPECT_EQ(Hex(GetBytes(s, h, CKA_ISSUER)), Hex(cert.issuer));
  EXPECT_EQ(Hex(GetBytes(s, h, CKA_SERIAL_NUMBER)), Hex(cert.serial));
  Template by_subject;
  by_subject.Raw(CKA_SUBJECT, cert.subject);
  EXPECT_EQ(Find(s, by_subject).size(), 1u);
}

TEST_F(CertificateTest, SessionCertificateAndLabelChange) {
  const CK_SESSION_HANDLE s = OpenSession(kUserSlot, false);
  const TestCert cert = MakeSelfSignedCert("session cert");
  const CK_OBJECT_HANDLE h = CreateCert(s, cert, false, {2}, "temp", true);
  ASSERT_NE(h, CK_INVALID_HANDLE);
  EXPECT_FALSE(GetBool(s, h, CKA_TOKEN));
  Template relabel;
  relabel.Str(CKA_LABEL, "renamed");
  EXPECT_CKR(CKR_OK, f_->C_SetAttributeValue(s, h, relabel.data(), relabel.size()));
  EXPECT_EQ(GetBytes(s, h, CKA_LABEL), ToBytes("renamed"));
  Template value;
  value.Raw(CKA_VALUE, Bytes(10, 1));
  EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, f_->C_SetAttributeValue(s, h, value.data(), value.size()));
}

TEST_F(CertificateTest, CreateErrors) {
  const CK_SESSION_HANDLE s = OpenSession();
  const TestCert cert = MakeSelfSignedCert("errors");
  CK_RV rv = CKR_OK;
  const CK_SESSION_HANDLE ro = OpenSession(kUserSlot, false);
  CreateCert(ro, cert, true, {3}, "ro", true, &rv);
  EXPECT_CKR(CKR_SESSION_READ_ONLY, rv);
  CK_OBJECT_HANDLE h = 0;
  Template no_value;
  no_value.Ulong(CKA_CLASS, CKO_CERTIFICATE).Ulong(CKA_CERTIFICATE_TYPE, CKC_X_509);
  no_value.Raw(CKA_SUBJECT, cert.subject);
  EXPECT_CKR(CKR_TEMPLATE_INCOMPLETE, f_->C_CreateObject(s, no_value.data(), no_value.size(), &h));
  Template no_type;
  no_type.Ulong(CKA_CLASS, CKO_CERTIFICATE).Raw(CKA_VALUE, cert.der);
  EXPECT_CKR(CKR_TEMPLATE_INCOMPLETE, f_->C_CreateObject(s, no_type.data(), no_type.size(), &h));
  Template bad_type;
  bad_type.Ulong(CKA_CLASS, CKO_CERTIFICATE).Ulong(CKA_CERTIFICATE_TYPE, CKC_WTLS);
  bad_type.Raw(CKA_VALUE, cert.der);
  EXPECT_CKR_ONE_OF(f_->C_CreateObject(s, bad_type.data(), bad_type.size(), &h),
                    CKR_ATTRIBUTE_VALUE_INVALID, CKR_TEMPLATE_INCONSISTENT);
  Template garbage;
  garbage.Ulong(CKA_CLASS, CKO_CERTIFICATE).Ulong(CKA_CERTIFICATE_TYPE, CKC_X_509);
  garbage.Raw(CKA_VALUE, Bytes(40, 0x30));
  EXPECT_CKR(CKR_ATTRIBUTE_VALUE_INVALID, f_->C_CreateObject(s, garbage.data(), garbage.size(), &h))
      << "CKA_VALUE that is not a DER certificate";
  Template unknown_class;
  unknown_class.Ulong(CKA_CLASS, kCkoNssTrust);
  EXPECT_CKR_ONE_OF(f_->C_CreateObject(s, unknown_class.data(), unknown_class.size(), &h),
                    CKR_ATTRIBUTE_VALUE_INVALID, CKR_TEMPLATE_INCONSISTENT);
}

}  // namespace
}  // namespace conf
