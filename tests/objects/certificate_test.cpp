// X.509 certificate objects: create (token and session), derived attributes, the searches
// NSS and Java make, persistence in the certificate store, linkage to keys, destroy.
#include <openssl/x509.h>

#include "core/p11_error.h"
#include "object_test_support.h"

namespace p11::test {
namespace {

namespace fs = std::filesystem;

std::size_t cert_files(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir / "certs", ec)) {
    n += e.is_regular_file() && e.path().filename().string()[0] != '.' ? 1 : 0;
  }
  return n;
}

struct CertParts {
  Bytes subject, issuer, serial;
};

CertParts parts_of(const Bytes& der) {
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  CertParts out;
  unsigned char* buf = nullptr;
  int len = i2d_X509_NAME(X509_get_subject_name(x), &buf);
  out.subject.assign(buf, buf + len);
  OPENSSL_free(buf);
  buf = nullptr;
  len = i2d_X509_NAME(X509_get_issuer_name(x), &buf);
  out.issuer.assign(buf, buf + len);
  OPENSSL_free(buf);
  buf = nullptr;
  len = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &buf);
  out.serial.assign(buf, buf + len);
  OPENSSL_free(buf);
  X509_free(x);
  return out;
}

class CertificateTest : public ObjectLayerTest {
 protected:
  Template cert_template(const Bytes& der, bool token) {
    Template t;
    t.ulong(CKA_CLASS, CKO_CERTIFICATE)
        .ulong(CKA_CERTIFICATE_TYPE, CKC_X_509)
        .boolean(CKA_TOKEN, token)
        .bytes(CKA_VALUE, der);
    return t;
  }
};

TEST_F(CertificateTest, TokenCertificateLinksToItsKeyAndIsSearchable) {
  const auto [pub, priv] = generate_ec(*layer_, true, "web");
  const Bytes der = make_certificate(*attr(*layer_, pub, CKA_PUBLIC_KEY_INFO), "web", 4242);
  Template t = cert_template(der, true);
  t.text(CKA_LABEL, "web cert");
  const CK_OBJECT_HANDLE cert = layer_->create_object(rw_, t.span());
  EXPECT_EQ(cert_files(user_dir_), 1u);
  const CertParts parts = parts_of(der);
  EXPECT_EQ(attr(*layer_, cert, CKA_SUBJECT), parts.subject);
  EXPECT_EQ(attr(*layer_, cert, CKA_ISSUER), parts.issuer);
  EXPECT_EQ(attr(*layer_, cert, CKA_SERIAL_NUMBER), parts.serial);
  EXPECT_EQ(attr(*layer_, cert, CKA_VALUE), der);
  EXPECT_FALSE(attr_bool(*layer_, cert, CKA_TRUSTED));
  EXPECT_EQ(attr_ulong(*layer_, cert, CKA_CERTIFICATE_TYPE), CKC_X_509);
  EXPECT_EQ(attr_ulong(*layer_, cert, CKA_CERTIFICATE_CATEGORY), 0u);
  const Bytes digest = sha1(der);
  EXPECT_EQ(attr(*layer_, cert, CKA_CHECK_VALUE), Bytes(digest.begin(), digest.begin() + 3));
  EXPECT_EQ(attr(*layer_, cert, CKA_START_DATE)->size(), 8u);
  // Without an explicit CKA_ID the certificate takes its key's NSS id: the pair links up.
  EXPECT_EQ(attr(*layer_, cert, CKA_ID), attr(*layer_, priv, CKA_ID));
  Template by_id;
  by_id.bytes(CKA_ID, *attr(*layer_, priv, CKA_ID));
  EXPECT_EQ(find(*layer_, by_id).size(), 3u);

  // The searches NSS and Java make, in a fresh layer reading the store.
  auto other = new_layer();
  Template by_subject;
  by_subject.ulong(CKA_CLASS, CKO_CERTIFICATE).bytes(CKA_SUBJECT, parts.subject);
  const auto found = find(*other, by_subject);
  ASSERT_EQ(found.size(), 1u);
  Template by_issuer_serial;
  by_issuer_serial.bytes(CKA_ISSUER, parts.issuer).bytes(CKA_SERIAL_NUMBER, parts.serial);
  EXPECT_EQ(find(*other, by_issuer_serial), found);
  Template by_value;
  by_value.bytes(CKA_VALUE, der);
  EXPECT_EQ(find(*other, by_value), found);
  Template by_label;
  by_label.text(CKA_LABEL, "web cert");
  EXPECT_EQ(find(*other, by_label), found);
  EXPECT_TRUE(attr_bool(*other, found[0], CKA_TOKEN));

  // Relabel (persisted in the store), then destroy (file gone).
  Template relabel;
  relabel.text(CKA_LABEL, "renamed");
  other->set_attribute_value(rw_, found[0], relabel.span());
  auto third = new_layer();
  Template renamed;
  renamed.text(CKA_LABEL, "renamed");
  ASSERT_EQ(find(*third, renamed).size(), 1u);
  EXPECT_EQ(find(*layer_, renamed), std::vector<CK_OBJECT_HANDLE>{cert});  // seen by the first
  third->destroy_object(rw_, find(*third, renamed)[0]);
  EXPECT_EQ(cert_files(user_dir_), 0u);
  EXPECT_TRUE(find(*layer_, by_value).empty());
}

TEST_F(CertificateTest, JavaStyleTemplateAndSessionCertificates) {
  const auto [pub, priv] = generate_rsa(*layer_, false);
  const Bytes der = make_certificate(*attr(*layer_, pub, CKA_PUBLIC_KEY_INFO), "java", 0x80);
  const CertParts parts = parts_of(der);
  // Java sends the serial as BigInteger.toByteArray() (content octets), label and id = alias.
  Template t = cert_template(der, false);
  t.bytes(CKA_SUBJECT, parts.subject)
      .bytes(CKA_ISSUER, parts.issuer)
      .bytes(CKA_SERIAL_NUMBER, Bytes(parts.serial.begin() + 2, parts.serial.end()))
      .text(CKA_LABEL, "alias")
      .text(CKA_ID, "alias");
  const CK_OBJECT_HANDLE cert = layer_->create_object(rw_, t.span());
  EXPECT_EQ(attr(*layer_, cert, CKA_SERIAL_NUMBER), parts.serial);  // normalised to DER
  EXPECT_EQ(attr_text(*layer_, cert, CKA_ID), "alias");
  EXPECT_EQ(cert_files(user_dir_), 0u);  // a session object
  layer_->close_session(rw_.handle);
  Template any_cert;
  any_cert.ulong(CKA_CLASS, CKO_CERTIFICATE);
  EXPECT_TRUE(find(*layer_, any_cert).empty());
  (void)priv;
}

TEST_F(CertificateTest, BadCertificateTemplates) {
  const auto rv = [&](const Template& t, const SessionContext& s) {
    try {
      layer_->create_object(s, t.span());
    } catch (const P11Error& e) {
      return e.rv();
    }
    return static_cast<CK_RV>(CKR_OK);
  };
  const auto [pub, priv] = generate_ec(*layer_, false);
  const Bytes der = make_certificate(*attr(*layer_, pub, CKA_PUBLIC_KEY_INFO), "bad", 1);
  Template no_value;
  no_value.ulong(CKA_CLASS, CKO_CERTIFICATE).ulong(CKA_CERTIFICATE_TYPE, CKC_X_509);
  EXPECT_EQ(rv(no_value, rw_), CKR_TEMPLATE_INCOMPLETE);
  Bytes truncated(der.begin(), der.end() - 5);
  EXPECT_EQ(rv(cert_template(truncated, false), rw_), CKR_ATTRIBUTE_VALUE_INVALID);
  Template wrong_type;
  wrong_type.ulong(CKA_CLASS, CKO_CERTIFICATE)
      .ulong(CKA_CERTIFICATE_TYPE, CKC_WTLS)
      .bytes(CKA_VALUE, der);
  EXPECT_EQ(rv(wrong_type, rw_), CKR_ATTRIBUTE_VALUE_INVALID);
  Template other_subject = cert_template(der, false);
  other_subject.bytes(CKA_SUBJECT, {0x30, 0x00});
  EXPECT_EQ(rv(other_subject, rw_), CKR_TEMPLATE_INCONSISTENT);
  EXPECT_EQ(rv(cert_template(der, true), ro_), CKR_SESSION_READ_ONLY);
  Template no_class;
  no_class.bytes(CKA_VALUE, der);
  EXPECT_EQ(rv(no_class, rw_), CKR_TEMPLATE_INCOMPLETE);
  Template hw_feature;  // a class this module does not create
  hw_feature.ulong(CKA_CLASS, CKO_HW_FEATURE);
  EXPECT_EQ(rv(hw_feature, rw_), CKR_ATTRIBUTE_VALUE_INVALID);
  (void)priv;
}

}  // namespace
}  // namespace p11::test
