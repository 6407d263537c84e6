// Writes tests/fixtures/java/{double,float}_tostring.txt: "<hex bits> <Java toString>" per line.
// The corpus is the truth for ember's Java number formatting (Spark casts and prints numbers
// with Double.toString / Float.toString; the SageMaker container renders its output with them).
// Run with Java 17 (the JVM Spark 4 and the pre-JDK-19 algorithm use):
//     java scripts/JavaNumberCorpus.java tests/fixtures/java
import java.io.*;
import java.util.*;

public class JavaNumberCorpus {
  public static void main(String[] args) throws IOException {
    String dir = args.length > 0 ? args[0] : "tests/fixtures/java";
    Random r = new Random(20261122L);
    List<Double> ds = new ArrayList<>();
    double[] edges = {0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 1e-3, 9.99e-4, 1e-4, 1e7, 9999999.0,
        9999999.999999998, 1e23, 2e23, 1e21, 1e22, 123456789.0, 1.23456789123E8, 0.001, 100.0,
        Double.MIN_VALUE, -Double.MIN_VALUE, Double.MAX_VALUE, Double.MIN_NORMAL, 4.35, 2.82879384806159E17,
        Math.PI, Math.E, 1.0 / 3.0, 2.0 / 3.0, 0.5, 0.25, 1.5e-4, 123456.789, 9007199254740992.0,
        9007199254740993.0, 18014398509481984.0, Math.pow(2, 58), Math.pow(2, 61), Math.pow(2, 63),
        Math.pow(2, 62) + 2048, -Math.pow(2, 60) - 256};
    for (double e : edges) ds.add(e);
    for (int p = -325; p <= 308; p++) { ds.add(Math.pow(10, p)); ds.add(3 * Math.pow(10, p)); }
    for (int b = 0; b < 64; b++) { ds.add(Math.pow(2, b)); ds.add(Math.pow(2, b) - 1); ds.add(-Math.pow(2, b) * 3); }
    for (int i = 0; i < 12000; i++) {
      double d;
      switch (i % 6) {
        case 0: d = Double.longBitsToDouble(r.nextLong()); break;
        case 1: d = r.nextDouble() * Math.pow(10, r.nextInt(40) - 20); break;
        case 2: d = Math.round(r.nextDouble() * 1e6) / Math.pow(10, r.nextInt(8)); break;
        case 3: d = (double) (r.nextLong() >>> r.nextInt(12)); break;        // large integers
        case 4: d = r.nextGaussian(); break;                                  // typical features
        default: d = 1.0 / (1.0 + Math.exp(-r.nextGaussian() * 8)); break;   // probabilities
      }
      if (!Double.isNaN(d)) ds.add(d);
    }
    try (PrintWriter w = new PrintWriter(new FileWriter(dir + "/double_tostring.txt"))) {
      for (double d : ds) w.println(Long.toHexString(Double.doubleToRawLongBits(d)) + " " + Double.toString(d));
    }
    List<Float> fs = new ArrayList<>();
    float[] fedges = {0f, -0f, 1f, 0.1f, 0.2f, 1e-3f, 1e-4f, 1e7f, 9999999f, Float.MIN_VALUE, Float.MAX_VALUE,
        Float.MIN_NORMAL, 16777216f, 16777217f, 3.4e38f, 1.17549435E-38f};
    for (float f : fedges) fs.add(f);
    for (int p = -45; p <= 38; p++) fs.add((float) Math.pow(10, p));
    for (int i = 0; i < 6000; i++) {
      float f;
      switch (i % 4) {
        case 0: f = Float.intBitsToFloat(r.nextInt()); break;
        case 1: f = (float) (r.nextDouble() * Math.pow(10, r.nextInt(20) - 10)); break;
        case 2: f = (float) r.nextGaussian(); break;
        default: f = (float) (r.nextInt() >>> r.nextInt(8)); break;
      }
      if (!Float.isNaN(f)) fs.add(f);
    }
    try (PrintWriter w = new PrintWriter(new FileWriter(dir + "/float_tostring.txt"))) {
      for (float f : fs) w.println(Integer.toHexString(Float.floatToRawIntBits(f)) + " " + Float.toString(f));
    }
  }
}
