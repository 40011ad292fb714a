# set_end.py STATE DELTA_NS: the first window of a window(1) state (no
# batch generation) made to end DELTA_NS after its start, the checksum
# made again (libxxhash by ctypes), so the load checks the window itself.
import ctypes, struct, sys
path, new_end = sys.argv[1], sys.argv[2]
b = bytearray(open(path, 'rb').read())
assert b[:8] == b'IDEMSTAT' and struct.unpack_from('<I', b, 20)[0] == 0
n = struct.unpack_from('<Q', b, 24)[0]
p = 32
dl = struct.unpack_from('<Q', b, p)[0]; p += 8 + dl
p += 16                                   # flags, w
nparts = struct.unpack_from('<Q', b, p)[0]; p += 8 + 8 * nparts
nw = struct.unpack_from('<Q', b, p)[0]; p += 8
assert nw >= 1
p += 16                                   # the group's fingerprint
kl = struct.unpack_from('<Q', b, p)[0]; p += 8 + kl
start = struct.unpack_from('<q', b, p)[0]; p += 8
struct.pack_into('<q', b, p, start + int(new_end))
x = ctypes.CDLL('libxxhash.so.0')
x.XXH3_64bits.restype = ctypes.c_uint64
x.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
struct.pack_into('<Q', b, 32 + n, x.XXH3_64bits(bytes(b[:32 + n]), 32 + n))
open(path, 'wb').write(b)
