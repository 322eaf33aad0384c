/*
 * Copyright: wso2si.keystores contributors
 * Apache License 2.0 (see LICENSE)
 *
 * TLS checker for the tests and the demo: proves with the JDK's own TLS stack
 * (what WSO2 Streaming Integrator uses) that a keystore serves a certificate a
 * truststore accepts, with HTTPS host name verification.
 *
 * Run without a compile step:   java tests/java/TlsCheck.java MODE [options]
 * (tests/utils/tls_check.py compiles it once and caches the class).
 *
 * Passwords are never taken from the command line:
 *   KS_PASSWORD  keystore password; also used as the key password, as SI does
 *   TS_PASSWORD  truststore password (optional: without it the store is read
 *                without an integrity check)
 *
 * Modes:
 *   selftest --keystore P [--storetype JKS|PKCS12] --truststore P [--tstype T] [--hostname NAME]
 *   serve    --keystore P [--storetype T] [--port N[,N...]] [--count K]
 *            (one listener per port, all in this JVM; --count per listener)
 *   connect  --host H --port N --truststore P [--tstype T] [--hostname NAME]
 *   matrix   --host H [--tstype T] [--hostname NAME]
 *            then on stdin one "<port> <truststore path>" line per connection
 *            (all with the one TS_PASSWORD): each is a `connect` of its own in
 *            this one JVM (a new SSLContext, the store read again), answered
 *            in order with one line, "OK ..." or "FAIL <reason>"; exit 0
 *
 * Output on success: "OK <SHA-256 of served leaf, AA:BB:..> <subject RFC 2253>"
 * (serve prints "LISTENING <port>[,<port>...]" once ready, then one line per connection).
 * Failure: one line "FAIL <reason>" on stderr and exit status
 *   1 TLS handshake or verification failed, 2 usage, 3 a store cannot be used.
 */

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import javax.security.auth.x500.X500Principal;

public final class TlsCheck {

    static final int TIMEOUT_MS = 15000;
    static final String LOOPBACK = "127.0.0.1";

    /** A failure with its exit status and a one-line reason. */
    static final class Fail extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;

        Fail(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    public static void main(String[] args) {
        try {
            if (args.length == 0) {
                throw new Fail(2, "usage: TlsCheck selftest|serve|connect [--option value ...]");
            }
            Map<String, String> opts = parseOptions(args);
            switch (args[0]) {
                case "selftest":
                    selftest(opts);
                    break;
                case "serve":
                    serve(opts);
                    break;
                case "connect":
                    connect(opts);
                    break;
                case "matrix":
                    matrix(opts);
                    break;
                default:
                    throw new Fail(2, "unknown mode '" + args[0] + "' (selftest, serve, connect or matrix)");
            }
            System.exit(0);
        } catch (Fail f) {
            System.out.flush();
            System.err.println("FAIL " + f.getMessage());
            System.exit(f.status);
        } catch (Exception e) {
            System.out.flush();
            System.err.println("FAIL " + describe(e));
            System.exit(1);
        }
    }

    // ------------------------------------------------------------------ modes

    static void selftest(Map<String, String> o) throws Exception {
        allow(o, "keystore", "storetype", "truststore", "tstype", "hostname");
        SSLContext server = serverContext(o);
        SSLContext client = clientContext(o);
        String hostname = o.getOrDefault("hostname", "localhost");

        try (SSLServerSocket listener = (SSLServerSocket) server.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
            listener.setSoTimeout(TIMEOUT_MS);
            AtomicReference<Exception> serverError = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try (SSLSocket s = (SSLSocket) listener.accept()) {
                    answerOne(s);
                } catch (Exception e) {
                    serverError.set(e);
                }
            }, "tls-server");
            t.setDaemon(true);
            t.start();
            try {
                X509Certificate leaf = clientExchange(client, LOOPBACK, listener.getLocalPort(), hostname);
                System.out.println("OK " + fingerprint(leaf) + " " + subject(leaf));
            } catch (Exception e) {
                t.join(2000);
                Exception se = serverError.get();
                String extra = se == null ? "" : " (server side: " + describe(se) + ")";
                throw new Fail(1, describe(e) + extra);
            }
            t.join(TIMEOUT_MS);
        }
    }

    static void serve(Map<String, String> o) throws Exception {
        allow(o, "keystore", "storetype", "port", "count", "bind");
        SSLContext server = serverContext(o);
        List<Integer> ports = new ArrayList<>();
        for (String p : o.getOrDefault("port", "0").split(",", -1)) {
            try {
                ports.add(Integer.parseInt(p.trim()));
            } catch (NumberFormatException e) {
                throw new Fail(2, "--port must be a number or a comma-separated list of numbers, got '" + o.get("port") + "'");
            }
        }
        int count = intOption(o, "count", 0);
        String bind = o.getOrDefault("bind", LOOPBACK);
        InetAddress address = InetAddress.getByName(bind);
        if (!address.isLoopbackAddress()) {
            throw new Fail(2, "--bind must be a loopback address, got " + bind);
        }
        // one listener per port, all served by this one JVM (as SI serves its listeners)
        List<SSLServerSocket> listeners = new ArrayList<>();
        try {
            for (int port : ports) {
                try {
                    listeners.add((SSLServerSocket) server.getServerSocketFactory().createServerSocket(port, 50, address));
                } catch (IOException e) {
                    throw new Fail(1, "cannot listen on " + bind + " port " + port + ": " + describe(e));
                }
            }
            List<String> bound = new ArrayList<>();
            for (SSLServerSocket listener : listeners) {
                bound.add(Integer.toString(listener.getLocalPort()));
            }
            System.out.println("LISTENING " + String.join(",", bound));
            System.out.flush();
            List<Thread> threads = new ArrayList<>();
            for (SSLServerSocket listener : listeners) {
                Thread t = new Thread(() -> acceptLoop(listener, count), "listener-" + listener.getLocalPort());
                t.start();
                threads.add(t);
            }
            for (Thread t : threads) {
                t.join();
            }
        } finally {
            for (SSLServerSocket listener : listeners) {
                listener.close();
            }
        }
    }

    static void acceptLoop(SSLServerSocket listener, int count) {
        for (int served = 0; count <= 0 || served < count; served++) {
            try (SSLSocket s = (SSLSocket) listener.accept()) {
                s.setSoTimeout(TIMEOUT_MS);
                answerOne(s);
                printLine("SERVED " + s.getSession().getProtocol() + " " + s.getSession().getCipherSuite());
            } catch (Exception e) {
                if (listener.isClosed()) {
                    return;
                }
                printLine("CLIENT-FAILED " + describe(e));
            }
        }
    }

    static synchronized void printLine(String line) {
        System.out.println(line);
        System.out.flush();
    }

    static void connect(Map<String, String> o) throws Exception {
        allow(o, "host", "port", "truststore", "tstype", "hostname");
        String host = required(o, "host");
        int port = intOption(o, "port", -1);
        if (port <= 0) {
            throw new Fail(2, "--port is required");
        }
        SSLContext client = clientContext(o);
        String hostname = o.getOrDefault("hostname", host);
        try {
            X509Certificate leaf = clientExchange(client, host, port, hostname);
            System.out.println("OK " + fingerprint(leaf) + " " + subject(leaf));
        } catch (Fail f) {
            throw f;
        } catch (Exception e) {
            throw new Fail(1, describe(e));
        }
    }

    /**
     * Many connects in one JVM (a JVM start costs far more than a handshake):
     * each stdin line "<port> <truststore path>" is checked as `connect`
     * checks it, with a fresh SSLContext (so no session is resumed between
     * lines), and answered with its one line on stdout.
     */
    static void matrix(Map<String, String> o) throws Exception {
        allow(o, "host", "tstype", "hostname");
        String host = required(o, "host");
        String hostname = o.getOrDefault("hostname", host);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.trim().isEmpty()) {
                continue;
            }
            String[] parts = line.trim().split(" ", 2);
            String answer;
            try {
                if (parts.length != 2) {
                    throw new Fail(2, "expected '<port> <truststore path>', got '" + line + "'");
                }
                int port;
                try {
                    port = Integer.parseInt(parts[0]);
                } catch (NumberFormatException e) {
                    throw new Fail(2, "port must be a number, got '" + parts[0] + "'");
                }
                Map<String, String> one = new HashMap<>(o);
                one.put("truststore", parts[1]);
                SSLContext client = clientContext(one);
                X509Certificate leaf = clientExchange(client, host, port, hostname);
                answer = "OK " + fingerprint(leaf) + " " + subject(leaf);
            } catch (Exception e) {
                answer = "FAIL " + describe(e);
            }
            System.out.println(answer);
            System.out.flush();
        }
    }

    // ------------------------------------------------------------------ TLS

    /** Server side of one connection: handshake, read a line, answer it. */
    static void answerOne(SSLSocket s) throws IOException {
        s.setSoTimeout(TIMEOUT_MS);
        s.startHandshake();
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
        Writer out = new OutputStreamWriter(s.getOutputStream(), StandardCharsets.UTF_8);
        String line;
        try {
            line = in.readLine();
        } catch (SocketTimeoutException e) {
            line = null;
        }
        if (line != null) {
            out.write("PONG " + line + "\n");
            out.flush();
        }
    }

    /** Client: connect to address:port, verify as hostname, exchange a line. */
    static X509Certificate clientExchange(SSLContext ctx, String address, int port, String hostname)
            throws Exception {
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress(address, port), TIMEOUT_MS);
        plain.setSoTimeout(TIMEOUT_MS);
        // A layered socket created with the host name carries it for SNI and
        // for the HTTPS endpoint identification below.
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(plain, hostname, port, true)) {
            SSLParameters p = s.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            if (!isIpLiteral(hostname)) {
                List<SNIServerName> names = new ArrayList<>();
                names.add(new SNIHostName(hostname));
                p.setServerNames(names);
            }
            s.setSSLParameters(p);
            s.startHandshake();
            SSLSession session = s.getSession();
            Certificate[] chain = session.getPeerCertificates();
            PrintWriter out = new PrintWriter(new OutputStreamWriter(s.getOutputStream(), StandardCharsets.UTF_8));
            out.print("PING\n");
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            String reply = in.readLine();
            if (!"PONG PING".equals(reply)) {
                throw new Fail(1, "handshake done but the server answered " + (reply == null ? "nothing" : "'" + reply + "'"));
            }
            return (X509Certificate) chain[0];
        }
    }

    static SSLContext serverContext(Map<String, String> o) throws Exception {
        String path = required(o, "keystore");
        String type = storeType(o.get("storetype"));
        char[] password = password("KS_PASSWORD", true);
        KeyStore ks = loadStore(path, type, password, "keystore");
        List<String> keys = new ArrayList<>();
        for (String alias : Collections.list(ks.aliases())) {
            if (ks.isKeyEntry(alias)) {
                keys.add(alias);
            }
        }
        if (keys.isEmpty()) {
            throw new Fail(3, "keystore " + path + " has no private key entry");
        }
        if (keys.size() > 1) {
            System.err.println("WARNING keystore has " + keys.size() + " key entries " + keys
                    + "; the JDK key manager picks one itself");
        }
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, password);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (UnrecoverableKeyException e) {
            throw new Fail(3, "the key password of keystore " + path
                    + " differs from its store password (SI needs them equal): " + describe(e));
        }
    }

    static SSLContext clientContext(Map<String, String> o) throws Exception {
        String path = required(o, "truststore");
        String type = storeType(o.get("tstype"));
        char[] password = password("TS_PASSWORD", false);
        KeyStore ts = loadStore(path, type, password, "truststore");
        int trusted = 0;
        for (String alias : Collections.list(ts.aliases())) {
            if (ts.isCertificateEntry(alias)) {
                trusted++;
            }
        }
        if (trusted == 0) {
            throw new Fail(3, "truststore " + path + " has no trusted certificate entry");
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    static KeyStore loadStore(String path, String type, char[] password, String what) throws Fail {
        try (InputStream in = new FileInputStream(path)) {
            KeyStore ks = KeyStore.getInstance(type);
            ks.load(in, password);
            return ks;
        } catch (IOException e) {
            Throwable root = rootCause(e);
            if (root instanceof UnrecoverableKeyException || String.valueOf(e.getMessage()).contains("password")) {
                throw new Fail(3, "cannot open " + what + " " + path + ": wrong password or corrupt file ("
                        + describe(e) + ")");
            }
            throw new Fail(3, "cannot open " + what + " " + path + " as " + type + ": " + describe(e));
        } catch (Exception e) {
            throw new Fail(3, "cannot open " + what + " " + path + " as " + type + ": " + describe(e));
        }
    }

    // ------------------------------------------------------------------ helpers

    static Map<String, String> parseOptions(String[] args) throws Fail {
        Map<String, String> o = new HashMap<>();
        for (int i = 1; i < args.length; i += 2) {
            String key = args[i];
            if (!key.startsWith("--") || i + 1 >= args.length) {
                throw new Fail(2, "expected --option value pairs, got '" + key + "'");
            }
            String name = key.substring(2);
            if (name.toLowerCase(Locale.ROOT).contains("pass")) {
                throw new Fail(2, "passwords are read from KS_PASSWORD / TS_PASSWORD, never from arguments");
            }
            o.put(name, args[i + 1]);
        }
        return o;
    }

    static void allow(Map<String, String> o, String... names) throws Fail {
        List<String> allowed = List.of(names);
        for (String key : o.keySet()) {
            if (!allowed.contains(key)) {
                throw new Fail(2, "unknown option --" + key + " (allowed: --" + String.join(", --", allowed) + ")");
            }
        }
    }

    static String required(Map<String, String> o, String name) throws Fail {
        String v = o.get(name);
        if (v == null || v.isEmpty()) {
            throw new Fail(2, "--" + name + " is required");
        }
        return v;
    }

    static int intOption(Map<String, String> o, String name, int dflt) throws Fail {
        String v = o.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new Fail(2, "--" + name + " must be a number, got '" + v + "'");
        }
    }

    static String storeType(String t) throws Fail {
        if (t == null) {
            return "JKS";
        }
        String u = t.toUpperCase(Locale.ROOT);
        if (u.equals("JKS") || u.equals("PKCS12")) {
            return u;
        }
        throw new Fail(2, "store type must be JKS or PKCS12, got '" + t + "'");
    }

    static char[] password(String variable, boolean required) throws Fail {
        String v = System.getenv(variable);
        if (v == null) {
            if (required) {
                throw new Fail(2, "environment variable " + variable + " is not set");
            }
            return null;
        }
        return v.toCharArray();
    }

    static boolean isIpLiteral(String host) {
        return host.matches("[0-9.]+") || host.contains(":");
    }

    static String fingerprint(X509Certificate cert) throws Exception {
        byte[] d = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < d.length; i++) {
            if (i > 0) {
                sb.append(':');
            }
            sb.append(String.format("%02X", d[i] & 0xff));
        }
        return sb.toString();
    }

    static String subject(X509Certificate cert) {
        return cert.getSubjectX500Principal().getName(X500Principal.RFC2253);
    }

    static Throwable rootCause(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        return r;
    }

    /** One line: the exception and, when different, its root cause. */
    static String describe(Throwable t) {
        if (t instanceof Fail) {
            return t.getMessage();
        }
        String top = t.getClass().getSimpleName() + ": " + t.getMessage();
        Throwable r = rootCause(t);
        if (r != t && r.getMessage() != null && !String.valueOf(t.getMessage()).contains(r.getMessage())) {
            top += " <- " + r.getClass().getSimpleName() + ": " + r.getMessage();
        }
        return top.replace('\n', ' ').replace('\r', ' ');
    }

    private TlsCheck() {
    }
}
