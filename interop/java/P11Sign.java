import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Signs with token keys through SunPKCS11 and verifies each signature with the JDK's software
 * providers (SunRsaSign, SunEC) against the public key of the certificate paired with the key.
 *
 * <p>Usage: java P11Sign SUNPKCS11_CONFIG PIN ALIAS... — every ALIAS must be a key entry of the
 * token keystore with its certificate; every key entry of the keystore must have a certificate.
 * Exit status 0 when every check passed.
 */
public final class P11Sign {
  private static int failures = 0;

  private static void check(boolean ok, String what) {
    System.out.println((ok ? "ok   " : "FAIL ") + what);
    if (!ok) {
      failures++;
    }
  }

  private static Signature configured(String alg, Provider provider) throws Exception {
    Signature s = Signature.getInstance(alg, provider);
    if (alg.equals("RSASSA-PSS")) {
      s.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
    }
    return s;
  }

  private static void signAndVerify(Provider token, String alias, PrivateKey key, PublicKey pub,
      String alg, String softwareProvider) throws Exception {
    byte[] data = ("data signed by " + alias + " with " + alg).getBytes("UTF-8");
    Signature signer = configured(alg, token);
    signer.initSign(key);
    signer.update(data);
    byte[] sig = signer.sign();
    Signature verifier = configured(alg, Security.getProvider(softwareProvider));
    verifier.initVerify(pub);
    verifier.update(data);
    check(verifier.verify(sig), alias + " " + alg + ": " + sig.length + "-byte signature verified by " + softwareProvider);
    verifier.initVerify(pub);
    verifier.update("other data".getBytes("UTF-8"));
    check(!verifier.verify(sig), alias + " " + alg + ": signature rejected for other data");
  }

  public static void main(String[] args) throws Exception {
    Provider token = Security.getProvider("SunPKCS11").configure(args[0]);
    Security.addProvider(token);
    KeyStore ks = KeyStore.getInstance("PKCS11", token);
    ks.load(null, args[1].toCharArray());

    List<String> aliases = Collections.list(ks.aliases());
    System.out.println("aliases: " + aliases);
    for (String alias : aliases) {
      if (ks.isKeyEntry(alias)) {
        Certificate[] chain = ks.getCertificateChain(alias);
        check(chain != null && chain.length > 0, alias + ": key entry paired with a certificate");
      }
    }
    List<String> wanted = new ArrayList<>();
    for (int i = 2; i < args.length; i++) {
      wanted.add(args[i]);
    }
    for (String alias : wanted) {
      if (!ks.isKeyEntry(alias)) {
        check(false, alias + ": is a key entry");
        continue;
      }
      PrivateKey key = (PrivateKey) ks.getKey(alias, null);
      X509Certificate cert = (X509Certificate) ks.getCertificate(alias);
      check(cert != null, alias + ": certificate " + (cert == null ? "missing" : cert.getSubjectX500Principal()));
      if (cert == null) {
        continue;
      }
      PublicKey pub = cert.getPublicKey();
      String software = key.getAlgorithm().equals("EC") ? "SunEC" : "SunRsaSign";
      try {
        cert.verify(pub, software);
        check(true, alias + ": self-signed certificate verified by " + software);
      } catch (Exception e) {
        // not self-signed (issued by a CA): nothing to check here
        System.out.println("info " + alias + ": certificate not self-signed (" + e.getMessage() + ")");
      }
      if (key.getAlgorithm().equals("RSA")) {
        signAndVerify(token, alias, key, pub, "SHA256withRSA", software);
        signAndVerify(token, alias, key, pub, "RSASSA-PSS", software);
      } else {
        signAndVerify(token, alias, key, pub, "SHA256withECDSA", software);
        signAndVerify(token, alias, key, pub, "SHA384withECDSA", software);
      }
    }
    System.out.println(failures == 0 ? "all checks passed" : failures + " checks failed");
    System.exit(failures == 0 && !wanted.isEmpty() ? 0 : 1);
  }
}
