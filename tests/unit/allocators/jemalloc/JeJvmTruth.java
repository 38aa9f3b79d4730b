// JeJvmTruth: a JVM whose native allocations go through jemalloc (LD_PRELOAD), for the
// jemalloc walker tests. Allocates direct ByteBuffers (Unsafe.allocateMemory -> malloc; with
// native memory tracking off the buffer address is the malloc pointer) and Inflaters (zlib
// state via malloc), writes one JSON object per buffer to args[0], prints READY and sleeps.
// Run: java --add-exports java.base/sun.nio.ch=ALL-UNNAMED JeJvmTruth TRUTH.jsonl
import java.io.FileWriter;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.Inflater;

public class JeJvmTruth {
  static final List<Object> keep = new ArrayList<>();

  public static void main(String[] args) throws Exception {
    int[] sizes = {100, 1000, 5000, 40000, 200000};
    StringBuilder sb = new StringBuilder();
    for (int s : sizes) {
      for (int i = 0; i < 20; i++) {
        ByteBuffer b = ByteBuffer.allocateDirect(s);
        b.put(0, (byte) 0x5a);
        keep.add(b);
        long addr = ((sun.nio.ch.DirectBuffer) b).address();
        sb.append(String.format("{\"p\":\"0x%x\",\"req\":%d}%n", addr, s));
      }
    }
    for (int i = 0; i < 50; i++) {
      Inflater f = new Inflater();
      f.setInput(new byte[] {0x78, (byte) 0x9c});
      f.inflate(new byte[16]);
      keep.add(f);
    }
    try (FileWriter w = new FileWriter(args[0])) {
      w.write(sb.toString());
    }
    System.out.println("READY");
    System.out.flush();
    Thread.sleep(600_000);
  }
}
