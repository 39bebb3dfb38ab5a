#!/usr/bin/env python3
"""Custom analysis for rtc, in Python with the standard library only.

rtc starts this program (see project.toml, [analysis] command) and talks
to it in newline-delimited JSON: one object per line on stdin, one reply
per line on stdout. The protocol is in rtc-project(5), CUSTOM ANALYSIS:

  rtc:  {"type":"hello","protocol":1,"config":{...},"project":{...}}
  you:  {"type":"ready"}
  rtc:  {"type":"volume","seq":7,"run":1,"vol":7,"nifti":"/dev/shm/...nii",
         "dims":[64,64,36],"tr":1.5,"record":{...}}
  you:  {"seq":7,"values":{"mean":812.4,"voxels":20311}}
  rtc:  {"type":"bye"}

Reply to every volume with its seq, quickly (rtc waits at most
[analysis] timeout_ms, then goes on without you). Write logs to stderr,
never to stdout. Your values land in the volume's record and can be the
feedback: [feedback] value = "analysis.mean".

This example reads the volume's NIfTI-1 file and reports the mean signal
of the voxels brighter than a fraction of the brightest one (a crude
brain mask), how many there are, and the brightest value.
"""
import array
import json
import struct
import sys

# NIfTI-1 datatype codes -> array module type codes
TYPES = {2: "B", 4: "h", 8: "i", 16: "f", 64: "d", 256: "b", 512: "H",
         768: "I"}


def read_nifti(path):
    """Return (dims, values) of the first 3D frame of a NIfTI-1 file."""
    with open(path, "rb") as f:
        hdr = f.read(348)
        if len(hdr) < 348:
            raise ValueError("short NIfTI header")
        for e in "<>":
            if struct.unpack(e + "i", hdr[0:4])[0] == 348:
                break
        else:
            raise ValueError("not a NIfTI-1 file")
        dim = struct.unpack(e + "8h", hdr[40:56])
        datatype = struct.unpack(e + "h", hdr[70:72])[0]
        vox_offset = struct.unpack(e + "f", hdr[108:112])[0]
        slope, inter = struct.unpack(e + "ff", hdr[112:120])
        if datatype not in TYPES:
            raise ValueError("unsupported NIfTI datatype %d" % datatype)
        dims = [max(1, d) for d in dim[1:4]]
        n = dims[0] * dims[1] * dims[2]
        data = array.array(TYPES[datatype])
        f.seek(int(vox_offset))
        data.frombytes(f.read(n * data.itemsize))
        if len(data) != n:
            raise ValueError("NIfTI data shorter than its header says")
        if (e == "<") != (sys.byteorder == "little"):
            data.byteswap()
        if slope not in (0.0, 1.0) or inter != 0.0:
            data = [v * slope + inter for v in data]
        return dims, data


def analyse(path, fraction):
    dims, data = read_nifti(path)
    top = max(data)
    cut = fraction * top
    total = 0.0
    count = 0
    for v in data:
        if v > cut:
            total += v
            count += 1
    return {"mean": total / count if count else 0.0,
            "voxels": count,
            "max": float(top)}


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    fraction = 0.2
    for line in sys.stdin:
        msg = json.loads(line)
        kind = msg.get("type")
        if kind == "hello":
            fraction = float(msg.get("config", {}).get("threshold_fraction",
                                                       fraction))
            reply({"type": "ready"})
        elif kind == "volume":
            try:
                values = analyse(msg["nifti"], fraction) if msg.get("nifti") else {}
                reply({"seq": msg["seq"], "values": values})
            except (OSError, ValueError) as err:
                reply({"seq": msg["seq"], "error": str(err)})
        elif kind == "bye":
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
