/*
 * Copyright (c) wso2si.keystores contributors
 * Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
 *
 * What SnakeYAML makes of candidate plain scalars, for the differential test of
 * plugins/module_utils/snakeyaml.py. Compiled at test time against SnakeYAML built
 * from ../shared/wso2-src (tests/utils/wso2_real.py).
 *
 * Input (argument 1): one candidate per line, as hex of its UTF-8 bytes.
 * Output: one line per candidate:
 *   <Resolver tag> <TAB> <result of composing "k: <candidate>\n">
 * where the second field is "scalar <tag> <hex of value>", "other" (not one
 * key with one scalar value) or "error" (SnakeYAML refused the document).
 */
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeId;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.resolver.Resolver;

public class SnakeYamlTags {

    static String hex(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            b.append(String.format("%02x", x & 0xff));
        }
        return b.toString();
    }

    static String unhex(String h) {
        byte[] out = new byte[h.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    static String compose(Yaml yaml, String value) {
        Node root;
        try {
            root = yaml.compose(new StringReader("k: " + value + "\n"));
        } catch (RuntimeException e) {
            return "error";
        }
        if (!(root instanceof MappingNode)) {
            return "other";
        }
        MappingNode map = (MappingNode) root;
        if (map.getValue().size() != 1) {
            return "other";
        }
        NodeTuple pair = map.getValue().get(0);
        if (!(pair.getKeyNode() instanceof ScalarNode)
                || !"k".equals(((ScalarNode) pair.getKeyNode()).getValue())
                || !(pair.getValueNode() instanceof ScalarNode)) {
            return "other";
        }
        ScalarNode node = (ScalarNode) pair.getValueNode();
        return "scalar " + node.getTag().getValue() + " " + hex(node.getValue());
    }

    public static void main(String[] args) throws Exception {
        Resolver resolver = new Resolver();
        Yaml yaml = new Yaml(new LoaderOptions());
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
        try (BufferedReader in = Files.newBufferedReader(Paths.get(args[0]), StandardCharsets.US_ASCII)) {
            String line;
            while ((line = in.readLine()) != null) {
                String value = unhex(line.trim());
                out.write(resolver.resolve(NodeId.scalar, value, true).getValue());
                out.write('\t');
                out.write(compose(yaml, value));
                out.write('\n');
            }
        }
        out.flush();
    }
}
