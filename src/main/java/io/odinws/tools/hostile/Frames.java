package io.odinws.tools.hostile;

import java.nio.charset.StandardCharsets;

/** The bytes the hostile sockets send, built by hand: a client frame carries a mask bit and a mask key (all zero here). */
final class Frames {

    static final int OP_TEXT = 1;
    static final int OP_CLOSE = 8;
    /** No close code in the server's close frame (RFC 6455 section 7.1.5). */
    static final int NO_CODE = 1005;

    private Frames() {
    }

    /** One masked client frame with FIN set; a zero mask key leaves the payload as it is. */
    static byte[] clientFrame(int opcode, byte[] payload) {
        int n = payload.length;
        int ext = n < 126 ? 0 : n <= 0xFFFF ? 2 : 8;
        byte[] f = new byte[2 + ext + 4 + n];
        f[0] = (byte) (0x80 | opcode);
        if (ext == 0) {
            f[1] = (byte) (0x80 | n);
        } else if (ext == 2) {
            f[1] = (byte) (0x80 | 126);
            f[2] = (byte) (n >>> 8);
            f[3] = (byte) n;
        } else {
            f[1] = (byte) (0x80 | 127);
            for (int i = 0; i < 8; i++) f[2 + i] = (byte) ((long) n >>> (56 - 8 * i));
        }
        System.arraycopy(payload, 0, f, 2 + ext + 4, n);
        return f;
    }

    static byte[] text(String s) {
        return clientFrame(OP_TEXT, s.getBytes(StandardCharsets.UTF_8));
    }

    /** A text frame of {@code size} payload bytes, a JSON string of 'a's (valid UTF-8: only its size is wrong). */
    static byte[] oversizeText(int size) {
        byte[] p = new byte[size];
        java.util.Arrays.fill(p, (byte) 'a');
        if (size >= 2) {
            p[0] = '"';
            p[size - 1] = '"';
        }
        return clientFrame(OP_TEXT, p);
    }

    static byte[] close(int code) {
        return clientFrame(OP_CLOSE, new byte[] {(byte) (code >>> 8), (byte) code});
    }

    /** The upgrade request of RFC 6455 section 4.1, with a fixed key (the tool never checks the accept value). */
    static byte[] upgradeRequest(String host, int port, String path) {
        return ("GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** What a slow-loris sends at once: a valid request line; its headers then come one byte at a time and never end. */
    static byte[] requestLine(String path) {
        return ("GET " + path + " HTTP/1.1\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** The slow-loris's {@code i}-th header byte: an endless header {@code X-Slow-Loris: aaaa...}. */
    static byte trickleByte(long i) {
        byte[] name = HEADER;
        return i < name.length ? name[(int) i] : (byte) 'a';
    }

    private static final byte[] HEADER = "X-Slow-Loris: ".getBytes(StandardCharsets.US_ASCII);
}
