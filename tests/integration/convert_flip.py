#!/usr/bin/python3
"""Store a NIfTI-1 image (int16, .nii) and its sidecar with the j and k
axes reversed: the same image in world space, another voxel order. The
convert tests use it to check that their comparison maps axes (dcm2niix
may order voxels differently from rtc). Standard library only.

usage: convert_flip.py IN.nii IN.json OUT.nii OUT.json
"""
import json
import struct
import sys


def main():
    src, sjs, dst, djs = sys.argv[1:5]
    raw = bytearray(open(src, 'rb').read())
    dim = struct.unpack_from('<8h', raw, 40)
    nx, ny, nz, nt = dim[1], dim[2], dim[3], max(dim[4], 1)
    if struct.unpack_from('<h', raw, 70)[0] != 4:
        sys.exit('int16 only')
    off = int(struct.unpack_from('<f', raw, 108)[0])
    srow = [list(struct.unpack_from('<4f', raw, 280 + 16 * r))
            for r in range(3)]
    for r in range(3):
        # j -> ny-1-j and k -> nz-1-k
        srow[r][3] += (ny - 1) * srow[r][1] + (nz - 1) * srow[r][2]
        srow[r][1] = -srow[r][1]
        srow[r][2] = -srow[r][2]
        struct.pack_into('<4f', raw, 280 + 16 * r, *srow[r])
    struct.pack_into('<h', raw, 252, 0)     # qform_code: sform only
    struct.pack_into('<h', raw, 254, 1)
    vox = struct.unpack_from('<%dh' % (nx * ny * nz * nt), raw, off)
    out = [0] * len(vox)
    for t in range(nt):
        for k in range(nz):
            for j in range(ny):
                a = ((t * nz + k) * ny + j) * nx
                b = ((t * nz + (nz - 1 - k)) * ny + (ny - 1 - j)) * nx
                out[b:b + nx] = vox[a:a + nx]
    struct.pack_into('<%dh' % len(out), raw, off, *out)
    open(dst, 'wb').write(raw)
    side = json.load(open(sjs))
    if 'SliceTiming' in side:
        side['SliceTiming'] = side['SliceTiming'][::-1]
    pe = side.get('PhaseEncodingDirection')
    if pe in ('j', 'j-'):
        side['PhaseEncodingDirection'] = 'j-' if pe == 'j' else 'j'
    json.dump(side, open(djs, 'w'), indent=2)


if __name__ == '__main__':
    main()
