package io.odinws.tools.loadtest;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Zipf distribution over ranks 0..n-1: P(rank k) proportional to 1/(k+1)^s. Rank 0 is the most popular
 * (the first channel of the list). Sampling is a binary search over the precomputed CDF.
 */
public final class Zipf {
    /** The exponent used for {@code --subscribe zipf:N}. */
    public static final double DEFAULT_EXPONENT = 1.1;

    private final double[] cdf;

    public Zipf(int n, double exponent) {
        if (n < 1) throw new IllegalArgumentException("n must be >= 1, got " + n);
        if (!(exponent > 0)) throw new IllegalArgumentException("exponent must be > 0, got " + exponent);
        cdf = new double[n];
        double sum = 0;
        for (int k = 0; k < n; k++) {
            sum += 1.0 / Math.pow(k + 1, exponent);
            cdf[k] = sum;
        }
        for (int k = 0; k < n; k++) cdf[k] /= sum;
        cdf[n - 1] = 1.0;
    }

    public int size() {
        return cdf.length;
    }

    /** One rank, 0..n-1. */
    public int sample(RandomGenerator rng) {
        int i = Arrays.binarySearch(cdf, rng.nextDouble());
        return i >= 0 ? i : Math.min(-i - 1, cdf.length - 1);
    }

    /**
     * {@code k} distinct ranks, sorted ascending: draws with rejection of repeats, which is fast while k is
     * small next to n; when repeats pile up it finishes by weighted sampling without replacement.
     */
    public int[] distinct(int k, RandomGenerator rng) {
        if (k < 1 || k > cdf.length) throw new IllegalArgumentException("k must be 1.." + cdf.length + ", got " + k);
        boolean[] taken = new boolean[cdf.length];
        int found = 0;
        int tries = 0;
        while (found < k && tries < 50 * k) {
            int r = sample(rng);
            tries++;
            if (!taken[r]) {
                taken[r] = true;
                found++;
            }
        }
        while (found < k) { // without replacement over the ranks left, by their weights
            double total = 0;
            for (int r = 0; r < cdf.length; r++) if (!taken[r]) total += weight(r);
            double x = rng.nextDouble() * total;
            int pick = -1;
            for (int r = 0; r < cdf.length; r++) {
                if (taken[r]) continue;
                pick = r;
                x -= weight(r);
                if (x < 0) break;
            }
            taken[pick] = true;
            found++;
        }
        int[] out = new int[k];
        for (int r = 0, j = 0; r < cdf.length; r++) if (taken[r]) out[j++] = r;
        return out;
    }

    private double weight(int r) {
        return r == 0 ? cdf[0] : cdf[r] - cdf[r - 1];
    }
}
