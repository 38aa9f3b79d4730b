// ZipAgentLoad: a JVM in a known native state for the owners analysis (issue 5).
//   * loads N generated classes gen/C0000.. (class files built here as byte arrays, no javac)
//     and initializes them, so a jdwp agent, when present, tags each with its signature text;
//   * keeps D GZIPOutputStreams (each with its own Deflater, some data deflated) and I
//     Inflaters open; the inflaters with an even index inflate real data, which makes zlib
//     allocate their 32 KiB window (the odd ones only get their inflate_state);
//   * writes the truth JSON (with the z_stream address of every stream, read from the
//     Java objects' `address` fields), prints READY and sleeps until killed.
// usage: java [flags] --add-opens java.base/java.util.zip=ALL-UNNAMED \
//          ZipAgentLoad TRUTH.json N D I
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.Inflater;

public class ZipAgentLoad {
  static final List<Object> keep = new ArrayList<>();

  // Defines the generated classes; kept alive so none is unloaded.
  static final class GenLoader extends ClassLoader {
    GenLoader() { super(ZipAgentLoad.class.getClassLoader()); }
    Class<?> define(String binaryName, byte[] b) { return defineClass(binaryName, b, 0, b.length); }
  }

  // Smallest valid class file: `public class NAME extends Object {}` (version 52: no
  // StackMapTable needed; no methods at all is legal).
  static byte[] classFile(String internalName) {
    ByteArrayOutputStream bo = new ByteArrayOutputStream();
    java.io.DataOutputStream o = new java.io.DataOutputStream(bo);
    try {
      o.writeInt(0xCAFEBABE);
      o.writeShort(0);      // minor
      o.writeShort(52);     // major: Java 8
      o.writeShort(5);      // constant pool count (entries 1..4)
      o.writeByte(1); o.writeUTF(internalName);        // #1 Utf8
      o.writeByte(7); o.writeShort(1);                 // #2 Class #1
      o.writeByte(1); o.writeUTF("java/lang/Object");  // #3 Utf8
      o.writeByte(7); o.writeShort(3);                 // #4 Class #3
      o.writeShort(0x0021); // ACC_PUBLIC | ACC_SUPER
      o.writeShort(2);      // this
      o.writeShort(4);      // super
      o.writeShort(0);      // interfaces
      o.writeShort(0);      // fields
      o.writeShort(0);      // methods
      o.writeShort(0);      // attributes
    } catch (java.io.IOException e) {
      throw new RuntimeException(e);
    }
    return bo.toByteArray();
  }

  // The native z_stream pointer behind a Deflater/Inflater (its zsRef's `address`).
  static long zstreamAddress(Object zip) throws Exception {
    Field ref = zip.getClass().getDeclaredField("zsRef");
    ref.setAccessible(true);
    Object zsRef = ref.get(zip);
    Field addr = zsRef.getClass().getDeclaredField("address");
    addr.setAccessible(true);
    return addr.getLong(zsRef);
  }

  static Deflater deflaterOf(DeflaterOutputStream s) throws Exception {
    Field f = DeflaterOutputStream.class.getDeclaredField("def");
    f.setAccessible(true);
    return (Deflater) f.get(s);
  }

  static byte[] sampleText(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; sb.length() < n; i++) sb.append("zip-agent-load line ").append(i).append('\n');
    return sb.toString().getBytes(StandardCharsets.US_ASCII);
  }

  static String hex(long v) { return String.format("\"0x%x\"", v); }

  public static void main(String[] args) throws Exception {
    String truthPath = args[0];
    int nClasses = Integer.parseInt(args[1]);
    int nDeflaters = Integer.parseInt(args[2]);
    int nInflaters = Integer.parseInt(args[3]);

    GenLoader loader = new GenLoader();
    keep.add(loader);
    for (int i = 0; i < nClasses; i++) {
      String name = String.format("gen/C%04d", i);
      Class<?> c = loader.define(name.replace('/', '.'), classFile(name));
      // Initializing links (prepares) the class: that is when JVMTI posts ClassPrepare.
      Class.forName(c.getName(), true, loader);
      keep.add(c);
    }

    byte[] text = sampleText(20000);
    // zlib-format data for the inflaters; this Deflater is ended (freed) before the census.
    Deflater once = new Deflater();
    once.setInput(text);
    once.finish();
    byte[] packed = new byte[text.length + 64];
    int packedLen = once.deflate(packed);
    once.end();

    StringBuilder deflaters = new StringBuilder();
    for (int i = 0; i < nDeflaters; i++) {
      GZIPOutputStream g = new GZIPOutputStream(new ByteArrayOutputStream(), 512);
      g.write(text, 0, 2000 + i);  // deflate() runs: the state, window, hash tables are in use
      keep.add(g);
      if (i > 0) deflaters.append(',');
      deflaters.append(hex(zstreamAddress(deflaterOf(g))));
    }

    StringBuilder inflaters = new StringBuilder();
    int withWindow = 0;
    byte[] out = new byte[4096];
    for (int i = 0; i < nInflaters; i++) {
      Inflater f = new Inflater();
      boolean window = i % 2 == 0;
      if (window) {
        f.setInput(packed, 0, packedLen);
        if (f.inflate(out) == 0) throw new IllegalStateException("inflate produced nothing");
        withWindow++;
      }
      keep.add(f);
      if (i > 0) inflaters.append(',');
      inflaters.append(String.format("{\"z_stream\":%s,\"window\":%b}", hex(zstreamAddress(f)), window));
    }

    StringBuilder flags = new StringBuilder();
    boolean jdwp = false;
    for (String a : ProcessHandle.current().info().arguments().orElse(new String[0])) {
      if (a.startsWith("-X") || a.startsWith("-agentlib") || a.startsWith("--add-")) {
        if (flags.length() > 0) flags.append(',');
        flags.append('"').append(a.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        if (a.startsWith("-agentlib:jdwp")) jdwp = true;
      }
    }

    String json = "{\n"
        + "\"schema\":\"coresift-corpus-truth/1\",\n"
        + "\"program\":\"ZipAgentLoad\",\n"
        + "\"pid\":" + ProcessHandle.current().pid() + ",\n"
        + "\"java_version\":\"" + System.getProperty("java.version") + "\",\n"
        + "\"java_home\":\"" + System.getProperty("java.home") + "\",\n"
        + "\"jdwp\":" + jdwp + ",\n"
        + "\"jvm_flags\":[" + flags + "],\n"
        + "\"classes\":{\"count\":" + nClasses + ",\"first\":\"gen/C0000\",\"last\":\""
        + String.format("gen/C%04d", nClasses - 1) + "\",\"signature_format\":\"Lgen/C%04d;\"},\n"
        + "\"deflaters\":{\"count\":" + nDeflaters + ",\"kind\":\"GZIPOutputStream\",\"z_streams\":["
        + deflaters + "]},\n"
        + "\"inflaters\":{\"count\":" + nInflaters + ",\"with_window\":" + withWindow
        + ",\"streams\":[" + inflaters + "]}\n"
        + "}\n";
    byte[] bytes = json.getBytes(StandardCharsets.US_ASCII);
    try (OutputStream w = new FileOutputStream(truthPath)) {
      // Pieces below 8 KiB: FileOutputStream uses a stack buffer for those (no malloc).
      for (int off = 0; off < bytes.length; off += 4096) w.write(bytes, off, Math.min(4096, bytes.length - off));
    }
    System.out.println("READY");
    System.out.flush();
    Thread.sleep(600_000);
  }
}
