/*
 * Copyright (c) wso2si.keystores contributors
 * Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
 *
 * Decrypts SI secure vault entries the way SI (carbon-secvault) does, to check
 * what wso2si.keystores writes: java.util.Properties reads secrets.properties,
 * the value splits on one space into "cipherText" and base64, and
 * Cipher.getInstance("RSA") with the vault's private key decrypts it.
 *
 * Single-file launch, no compilation step:
 *
 *   SD_STORE_PASSWORD=... [SD_KEY_PASSWORD=...] [EXPECTED_X=...] \
 *   java tests/java/SecretDecrypt.java VAULT.jks KEY_ALIAS secrets.properties ALIAS=EXPECTED_X ...
 *
 * Each ALIAS=ENV pair decrypts ALIAS and compares it with the value of the
 * environment variable ENV. Passwords and expected values come from the
 * environment only, never the command line, and are never printed.
 * Prints "OK alias" or "MISMATCH alias"; exits 0 when every alias matched.
 */

import java.io.FileInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.Base64;
import java.util.Properties;
import javax.crypto.Cipher;

public class SecretDecrypt {

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: java SecretDecrypt.java VAULT.jks KEY_ALIAS secrets.properties ALIAS=ENV_VAR ...");
            System.exit(2);
        }
        String storePassword = System.getenv("SD_STORE_PASSWORD");
        if (storePassword == null) {
            System.err.println("SD_STORE_PASSWORD is not set");
            System.exit(2);
        }
        String keyPassword = System.getenv("SD_KEY_PASSWORD");
        if (keyPassword == null) {
            keyPassword = storePassword;
        }

        KeyStore store = KeyStore.getInstance("JKS");
        try (InputStream in = new FileInputStream(args[0])) {
            store.load(in, storePassword.toCharArray());
        }
        Key key = store.getKey(args[1], keyPassword.toCharArray());
        if (!(key instanceof PrivateKey)) {
            System.err.println("no private key under alias " + args[1]);
            System.exit(2);
        }

        Properties secrets = new Properties();
        try (Reader reader = new InputStreamReader(new FileInputStream(args[2]), StandardCharsets.UTF_8)) {
            secrets.load(reader);
        }

        int failures = 0;
        for (int i = 3; i < args.length; i++) {
            String[] pair = args[i].split("=", 2);
            String alias = pair[0];
            String expected = pair.length == 2 ? System.getenv(pair[1]) : null;
            String value = secrets.getProperty(alias);
            String[] parts = value == null ? new String[0] : value.split(" ");
            if (expected == null || parts.length != 2 || !"cipherText".equals(parts[0])) {
                System.out.println("MISMATCH " + alias + " (missing entry, not cipherText, or no expected value)");
                failures++;
                continue;
            }
            Cipher cipher = Cipher.getInstance("RSA");
            cipher.init(Cipher.DECRYPT_MODE, key);
            String plain = new String(cipher.doFinal(Base64.getDecoder().decode(parts[1])), StandardCharsets.UTF_8);
            if (plain.equals(expected)) {
                System.out.println("OK " + alias);
            } else {
                System.out.println("MISMATCH " + alias);
                failures++;
            }
        }
        System.exit(failures == 0 ? 0 : 1);
    }
}
