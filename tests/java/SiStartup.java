/*
 * Copyright (c) wso2si.keystores contributors
 * Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
 *
 * SI's start-up path for its security configuration, run with WSO2's own code
 * (carbon-secvault 5.0.20, carbon-config 2.1.17, SnakeYAML 2.2) built from
 * ../shared/wso2-src by tests/utils/wso2_real.py. As SI's SecureVaultComponent
 * and ConfigProviderComponent do:
 *   SecureVaultFactory.getSecureVault(deployment.yaml)
 *   ConfigProviderFactory.getConfigProvider(deployment.yaml, vault)
 * then every namespace that names a store is read, each store is opened as
 * KeyStore.getInstance("JKS") with the password SI resolved (key entries with
 * the same password, as SI's TLS listeners and receivers use them), and every
 * entry of the secrets file is resolved through the vault.
 *
 * Run: java -Dcarbon.home=<SI home> -Dwso2.runtime=server -cp <classpath> SiStartup
 *      <deployment.yaml> <secrets.properties>
 * Prints one JSON object:
 *   {"secrets": {alias: value}, "namespaces": {ns: <the namespace as SI reads it>},
 *    "ssl_bean": {...} (when ssl.configs is present), "stores": [{...}], "error": "..."}
 * Scalars that SnakeYAML did not read as strings appear as {"java": class, "text": text}.
 * Exit status: 0 when every store opened, 1 when one did not, 2 when the vault or
 * the configuration could not be read (SI would not start).
 */
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.Reader;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeSet;
import org.wso2.carbon.config.ConfigProviderFactory;
import org.wso2.carbon.config.provider.ConfigProvider;
import org.wso2.carbon.secvault.SecureVault;
import org.wso2.carbon.secvault.SecureVaultFactory;

public class SiStartup {

    static final String[] NAMESPACES = {"wso2.transport.http", "siddhi.stores.query.api", "databridge.config",
        "data.agent.config", "wso2.securevault", "ssl.configs", "siddhi"};
    // (path key, password key, kind): the store references of docs/si-reference.md section 1 and ssl.configs
    static final String[][] STORE_KEYS = {
        {"keyStoreFile", "keyStorePassword", "keystore"},
        {"keyStoreLocation", "keyStorePassword", "keystore"},
        {"trustStorePath", "trustStorePassword", "truststore"},
        {"trustStoreLocation", "trustStorePassword", "truststore"},
    };

    static final StringBuilder OUT = new StringBuilder();
    static boolean storeFailed = false;

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    static String json(Object o) {
        if (o == null) {
            return "null";
        }
        if (o instanceof String) {
            return quote((String) o);
        }
        if (o instanceof Map) {
            List<String> parts = new ArrayList<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) {
                parts.add(quote(String.valueOf(e.getKey())) + ": " + json(e.getValue()));
            }
            return "{" + String.join(", ", parts) + "}";
        }
        if (o instanceof List) {
            List<String> parts = new ArrayList<>();
            for (Object x : (List<?>) o) {
                parts.add(json(x));
            }
            return "[" + String.join(", ", parts) + "]";
        }
        return "{\"java\": " + quote(o.getClass().getSimpleName()) + ", \"text\": " + quote(String.valueOf(o)) + "}";
    }

    static String home() {
        return System.getProperty("carbon.home");
    }

    /** The transports resolve ${carbon.home} themselves (carbon-config leaves it): do the same. */
    static String storePath(String value) {
        return value.replace("${carbon.home}", home());
    }

    static void openStores(String namespace, Object node, List<String> results) {
        if (node instanceof List) {
            for (Object x : (List<?>) node) {
                openStores(namespace, x, results);
            }
            return;
        }
        if (!(node instanceof Map)) {
            return;
        }
        Map<?, ?> map = (Map<?, ?>) node;
        for (String[] keys : STORE_KEYS) {
            if (map.containsKey(keys[0]) && map.containsKey(keys[1])) {
                results.add(openStore(namespace, keys, String.valueOf(map.get(keys[0])),
                        String.valueOf(map.get(keys[1]))));
            }
        }
        for (Object v : map.values()) {
            openStores(namespace, v, results);
        }
    }

    static String openStore(String namespace, String[] keys, String location, String password) {
        String path = storePath(location);
        String error = null;
        int entries = 0;
        int keyEntries = 0;
        try (InputStream in = new FileInputStream(path)) {
            KeyStore store = KeyStore.getInstance("JKS");
            store.load(in, password.toCharArray());
            for (String alias : Collections.list(store.aliases())) {
                entries++;
                if (store.isKeyEntry(alias)) {
                    keyEntries++;
                    store.getKey(alias, password.toCharArray());
                }
            }
        } catch (Exception e) {
            error = e.getClass().getSimpleName() + ": " + e.getMessage();
            storeFailed = true;
        }
        return "{\"namespace\": " + quote(namespace) + ", \"key\": " + quote(keys[0]) + ", \"kind\": "
                + quote(keys[2]) + ", \"path\": " + quote(path) + ", \"ok\": " + (error == null) + ", \"entries\": "
                + entries + ", \"key_entries\": " + keyEntries + ", \"error\": " + json(error) + "}";
    }

    static void finish(int status, String error) {
        if (error != null) {
            OUT.append(OUT.length() > 1 ? ", " : "").append("\"error\": ").append(quote(error));
        }
        System.out.println(OUT.append("}"));
        System.exit(status);
    }

    public static void main(String[] args) throws Exception {
        Path deployment = Paths.get(args[0]);
        Path secretsFile = Paths.get(args[1]);
        OUT.append("{");
        Optional<SecureVault> vault;
        try {
            vault = SecureVaultFactory.getSecureVault(deployment);
        } catch (Exception e) {
            finish(2, "the secure vault did not start: " + e);
            return;
        }
        Properties secrets = new Properties();
        if (Files.exists(secretsFile)) {
            try (Reader r = Files.newBufferedReader(secretsFile, StandardCharsets.ISO_8859_1)) {
                secrets.load(r);
            }
        }
        List<String> resolved = new ArrayList<>();
        for (String alias : new TreeSet<>(secrets.stringPropertyNames())) {
            try {
                resolved.add(quote(alias) + ": " + quote(new String(vault.get().resolve(alias))));
            } catch (Exception e) {
                finish(2, "the secure vault cannot resolve " + alias + ": " + e);
            }
        }
        OUT.append("\"secrets\": {").append(String.join(", ", resolved)).append("}");
        ConfigProvider provider;
        List<String> namespaces = new ArrayList<>();
        List<String> stores = new ArrayList<>();
        try {
            provider = ConfigProviderFactory.getConfigProvider(deployment, vault.orElse(null));
            for (String ns : NAMESPACES) {
                Object value = provider.getConfigurationObject(ns);
                if (value == null) {
                    continue;
                }
                namespaces.add(quote(ns) + ": " + json(value));
                openStores(ns, value, stores);
            }
            OUT.append(", \"namespaces\": {").append(String.join(", ", namespaces)).append("}");
            if (provider.getConfigurationObject("ssl.configs") != null) {
                // the bean SI loads ssl.configs into (carbon-analytics-common's SSLConfiguration)
                Class<?> bean = Class.forName("org.wso2.carbon.analytics.idp.client.core.utils.config.SSLConfiguration");
                Object conf = provider.getConfigurationObject(bean);
                List<String> fields = new ArrayList<>();
                for (String getter : new String[] {"getKeyStoreLocation", "getKeyStorePassword",
                        "getTrustStoreLocation", "getTrustStorePassword"}) {
                    Method m = bean.getMethod(getter);
                    fields.add(quote(getter) + ": " + json(m.invoke(conf)));
                }
                OUT.append(", \"ssl_bean\": {").append(String.join(", ", fields)).append("}");
            }
        } catch (Exception e) {
            finish(2, "the configuration could not be read: " + e);
            return;
        }
        OUT.append(", \"stores\": [").append(String.join(", ", stores)).append("]");
        finish(storeFailed ? 1 : 0, null);
    }
}
