#!/usr/bin/python3
"""A loopback HTTP server for rtc's network tests (Python 3 stdlib only).

It serves a directory tree as one S3 bucket (path-style GET/HEAD with
Range, ETag = MD5, ListObjectsV2 with small pages and continuation tokens
that contain '+', '/' and '='), an OpenNeuro-shaped GraphQL endpoint at
/crn/graphql, and injects faults on request:

  --faults FILE   JSON: {"KEY": ["cut:N", "short:N", "status:503",
                  "html200", "jsonerr200", "bigrange", "stall:S", "ok",
                  ...], ...}
                  Each GET of KEY (the key relative to --prefix) takes the
                  next behaviour; once the list is used up, "ok". The key
                  "?list" applies to listing pages ("status:N",
                  "foreign:KEY" adds KEY whatever the prefix, "ok"),
                  "?graphql" to GraphQL posts ("error200",
                  "error200:MSG", "status:N", "ok").
  --extra-key K   list a key that is not on disk (unsafe names: "../x");
                  GET of it serves a few bytes.
  --log FILE      one line per request: METHOD PATH RANGE STATUS BYTES

It prints "PORT <n>" on stdout when it listens (use --port 0).
"""
import argparse
import base64
import hashlib
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

ARGS = None
FAULTS = {}
FAULT_LOCK = threading.Lock()
LOG_LOCK = threading.Lock()
FILES = {}          # key (under prefix) -> path on disk, or None for extras


def next_fault(key):
    with FAULT_LOCK:
        lst = FAULTS.get(key)
        if not lst:
            return "ok"
        return lst.pop(0)


def log(method, path, rng, status, nbytes):
    if not ARGS.log:
        return
    with LOG_LOCK:
        with open(ARGS.log, "a", encoding="utf-8") as f:
            f.write("%s %s %s %d %d\n" % (method, path, rng or "-", status,
                                          nbytes))


def scan():
    root = ARGS.root
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fn in sorted(filenames):
            p = os.path.join(dirpath, fn)
            rel = os.path.relpath(p, root).replace(os.sep, "/")
            FILES[rel] = p
    for k in ARGS.extra_key or []:
        # "\x00" and friends in an argument stand for the byte
        FILES[k.encode("utf-8").decode("unicode_escape")] = None


def body_of(key):
    p = FILES[key]
    if p is None:
        return b"outside\n"
    with open(p, "rb") as f:
        return f.read()


def token_for(key):
    # b"\xfb\xff" makes the encoding start with "+/"; the length makes
    # it end in "=": a token that breaks any sloppy query encoding.
    raw = b"\xfb\xff" + key.encode("utf-8")
    while len(raw) % 3 != 1:
        raw += b"\x00"
    return base64.b64encode(raw).decode("ascii")


def key_of_token(tok):
    raw = base64.b64decode(tok.encode("ascii"), validate=True)
    if not raw.startswith(b"\xfb\xff"):
        raise ValueError("bad token")
    return raw[2:].rstrip(b"\x00").decode("utf-8")


def annex_key(key, data):
    ext = ""
    base = key.rsplit("/", 1)[-1]
    if "." in base:
        ext = base[base.index("."):]
    return "SHA256E-s%d--%s%s" % (len(data), hashlib.sha256(data).hexdigest(),
                                   ext)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FaultS3/1.0"

    def log_message(self, fmt, *args):
        pass

    def note(self, status, nbytes):
        log(self.command, self.path, self.headers.get("Range"), status,
            nbytes)

    def send_body(self, status, ctype, data, extra=None):
        self.note(status, len(data))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return len(data)

    def s3_error(self, status, code, msg):
        data = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s"
                "</Code><Message>%s</Message><RequestId>fault</RequestId>"
                "</Error>" % (code, escape(msg))).encode()
        return self.send_body(status, "application/xml", data)

    def split(self):
        u = urllib.parse.urlsplit(self.path)
        raw_path = u.path
        path = urllib.parse.unquote(raw_path)
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        return path, q

    # ---- S3 ----
    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path, q = self.split()
        bucket = "/" + ARGS.bucket
        rng = self.headers.get("Range")
        if path in (bucket, bucket + "/") and q.get("list-type") == ["2"]:
            self.list_page(q)
            return
        if not path.startswith(bucket + "/"):
            self.s3_error(404, "NoSuchBucket", "no such bucket")
            return
        key = path[len(bucket) + 1:]
        pre = ARGS.prefix
        if not key.startswith(pre) or key[len(pre):] not in FILES:
            self.s3_error(404, "NoSuchKey", "The specified key does not "
                          "exist.")
            return
        rel = key[len(pre):]
        self.serve_object(rel, rng)

    def serve_object(self, rel, rng):
        data = body_of(rel)
        etag = '"%s"' % hashlib.md5(data).hexdigest()
        fault = next_fault(rel) if self.command == "GET" else "ok"
        kind, _, arg = fault.partition(":")
        if kind == "status":
            code = int(arg)
            return code, self.s3_error(code, "SlowDown" if code == 503 else
                                       "InternalError", "injected")
        if kind == "html200":
            page = (b"<!DOCTYPE html>\n<html><head><title>Service "
                    b"Unavailable</title></head><body>maintenance</body>"
                    b"</html>\n")
            return 200, self.send_body(200, "text/html", page)
        if kind == "jsonerr200":
            page = b'{"error": "an unknown error occurred accessing this file"}'
            return 200, self.send_body(200, "application/json", page)
        if kind == "bigrange":
            # numbers just past a signed 64-bit integer in the headers
            huge = "9" * 19
            return 200, self.send_body(200, "application/octet-stream",
                                       data, {"Content-Range": "bytes %s-%s/%s"
                                              % (huge, huge, huge)})
        if kind == "stall":
            time.sleep(float(arg))
        start, end = 0, len(data) - 1
        status = 200
        extra = {"ETag": etag, "Accept-Ranges": "bytes",
                 "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}
        if rng:
            r = rng.strip()
            if not r.startswith("bytes=") or "," in r:
                return 400, self.s3_error(400, "InvalidRange", "bad range")
            a, _, b = r[6:].partition("-")
            start = int(a)
            if b:
                end = min(int(b), len(data) - 1)
            if start >= len(data):
                self.note(416, 0)
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return 416, 0
            status = 206
            extra["Content-Range"] = "bytes %d-%d/%d" % (start, end,
                                                         len(data))
        part = data[start:end + 1]
        ctype = "application/octet-stream"
        if kind == "short":
            part = part[:int(arg)]
        self.note(status, len(part) if kind != "cut" else int(arg))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(part)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD":
            return status, 0
        if kind == "cut":
            cut = min(int(arg), len(part))
            self.wfile.write(part[:cut])
            self.wfile.flush()
            # the connection ends mid-body (a FIN: every byte sent
            # arrives, then the client sees the body end early)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_WR)
            return status, cut
        self.wfile.write(part)
        return status, len(part)

    def list_page(self, q):
        fault = next_fault("?list")
        kind, _, arg = fault.partition(":")
        if kind == "status":
            self.last_status = int(arg)
            return self.s3_error(int(arg), "SlowDown", "injected")
        prefix = q.get("prefix", [""])[0]
        maxkeys = min(int(q.get("max-keys", ["1000"])[0]), ARGS.page)
        after = ""
        if "continuation-token" in q:
            try:
                after = key_of_token(q["continuation-token"][0])
            except Exception:
                self.last_status = 400
                return self.s3_error(400, "InvalidArgument",
                                     "The continuation token provided is "
                                     "incorrect")
        keys = sorted(ARGS.prefix + k for k in FILES)
        keys = [k for k in keys if k.startswith(prefix) and k > after]
        page, rest = keys[:maxkeys], keys[maxkeys:]
        foreign = arg if kind == "foreign" else None
        if foreign is not None:
            # a key, as is, that the prefix asked for does not cover
            page = [foreign] + page
        enc = q.get("encoding-type") == ["url"] and not ARGS.no_encoding

        def shown(k):
            return urllib.parse.quote_plus(k, safe="/") if enc else k
        out = ['<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult '
               'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
               "<Name>%s</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount>"
               "<MaxKeys>%d</MaxKeys><IsTruncated>%s</IsTruncated>"
               % (escape(ARGS.bucket), escape(prefix), len(page), maxkeys,
                  "true" if rest else "false")]
        if enc:
            out.append("<EncodingType>url</EncodingType>")
        if rest:
            out.append("<NextContinuationToken>%s</NextContinuationToken>"
                       % token_for(page[-1]))
        for k in page:
            data = (b"outside\n" if k == foreign else
                    body_of(k[len(ARGS.prefix):]))
            out.append("<Contents><Key>%s</Key><LastModified>2024-01-01T00:"
                       "00:00.000Z</LastModified><ETag>&quot;%s&quot;</ETag>"
                       "<Size>%d</Size><StorageClass>STANDARD</StorageClass>"
                       "</Contents>" % (escape(shown(k)),
                                        hashlib.md5(data).hexdigest(),
                                        len(data)))
        out.append("</ListBucketResult>")
        self.last_status = 200
        return self.send_body(200, "application/xml",
                              "".join(out).encode("utf-8"))

    def do_DELETE(self):
        path, q = self.split()
        status = 204 if "uploadId" in q else 404
        self.note(status, 0)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_PUT(self):
        # echo uploads: no storage, the ETag is the body's MD5
        path, q = self.split()
        n = int(self.headers.get("Content-Length", "0"))
        h = hashlib.md5()
        left = n
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
        fault = next_fault("?part" if "partNumber" in q else "?put")
        kind, _, arg = fault.partition(":")
        if kind == "badetag":
            self.send_body(200, "application/xml", b"",
                           {"ETag": '"%s"' % ("0" * 32)})
            return
        if kind == "status":
            self.s3_error(int(arg), "SlowDown", "injected")
            return
        self.send_body(200, "application/xml", b"",
                       {"ETag": '"%s"' % h.hexdigest()})

    # ---- GraphQL ----
    def do_POST(self):
        path, q = self.split()
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n) if n > 0 else b""
        if "uploads" in q:
            doc = ("<?xml version=\"1.0\"?><InitiateMultipartUploadResult>"
                   "<Bucket>%s</Bucket><Key>k</Key><UploadId>up+id/1=</UploadId>"
                   "</InitiateMultipartUploadResult>" % ARGS.bucket).encode()
            self.send_body(200, "application/xml", doc)
            return
        if "uploadId" in q:
            fault = next_fault("?complete")
            if fault == "error200":
                doc = (b"<?xml version=\"1.0\"?><Error><Code>InternalError"
                       b"</Code><Message>injected</Message></Error>")
            elif q["uploadId"] != ["up+id/1="]:
                self.s3_error(404, "NoSuchUpload", "bad upload id")
                return
            else:
                doc = (b"<?xml version=\"1.0\"?><CompleteMultipartUploadResult>"
                       b"<ETag>\"x-2\"</ETag></CompleteMultipartUploadResult>")
            if ARGS.log:
                with LOG_LOCK:
                    with open(ARGS.log, "a", encoding="utf-8") as f:
                        f.write("COMPLETE-BODY %s\n" % raw.decode())
            self.send_body(200, "application/xml", doc)
            return
        if path != "/crn/graphql":
            self.s3_error(404, "NotFound", "no such endpoint")
            return
        fault = next_fault("?graphql")
        kind, _, arg = fault.partition(":")
        if kind == "status":
            self.send_body(int(arg), "text/html",
                           b"<html><body>Bad Gateway</body></html>")
            return
        if kind == "error200":
            msg = arg or "504 Gateway Timeout"
            doc = {"errors": [{"message": msg, "locations": [{"line": 2,
                   "column": 3}], "path": ["snapshot"],
                   "extensions": {"code": "INTERNAL_SERVER_ERROR"}}],
                   "data": None}
            self.send_body(200, "application/json", json.dumps(doc).encode())
            return
        if kind == "stall":
            time.sleep(float(arg))
        try:
            req = json.loads(raw)
            doc = self.graphql(req.get("query", ""), req.get("variables")
                               or {})
        except Exception as e:  # a malformed request: GraphQL's own shape
            doc = {"errors": [{"message": "bad request: %s" % e}],
                   "data": None}
        self.send_body(200, "application/json", json.dumps(doc).encode())

    def graphql(self, query, var):
        ds = var.get("datasetId") or var.get("id")
        if ds != ARGS.dataset:
            return {"errors": [{"message": "Dataset %s not found" % ds,
                                "path": ["dataset"]}], "data": None}
        if "latestSnapshot" in query:
            return {"data": {"dataset": {"id": ds, "latestSnapshot": {
                "id": "%s:%s" % (ds, ARGS.tag), "tag": ARGS.tag}}}}
        tag = var.get("tag")
        if tag != ARGS.tag:
            return {"errors": [{"message": "snapshot %s:%s not found"
                                % (ds, tag), "path": ["snapshot"]}],
                    "data": {"snapshot": None}}
        tree = var.get("tree")
        base = ""
        if tree:
            if not tree.startswith("tree:"):
                return {"errors": [{"message": "bad tree"}], "data": None}
            base = tree[5:]
        seen = {}
        files = []
        if not base:
            # names that are not on disk go into the root folder as they
            # are: the unsafe ones a client must refuse
            for rel in sorted(k for k in FILES if FILES[k] is None):
                files.append({"id": "x:" + rel, "key": None, "filename": rel,
                              "size": 8, "directory": False,
                              "annexed": False, "urls": [
                                  "%s/%s/x" % (ARGS.files_base,
                                               ARGS.bucket)]})
        for rel in sorted(FILES):
            if FILES[rel] is None:
                continue
            if base and not rel.startswith(base + "/"):
                continue
            rest = rel[len(base) + 1:] if base else rel
            if "/" in rest:
                d = rest.split("/", 1)[0]
                if d not in seen:
                    seen[d] = 1
                    full = (base + "/" + d) if base else d
                    files.append({"id": "tree:" + full, "key": "tree:" + full,
                                  "filename": d, "size": 0,
                                  "directory": True, "annexed": False,
                                  "urls": []})
                continue
            data = body_of(rel)
            annexed = rel.endswith((".nii.gz", ".nii"))
            key = annex_key(rel, data) if annexed else \
                hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
            url = "%s/%s/%s%s" % (ARGS.files_base, ARGS.bucket, ARGS.prefix,
                                  urllib.parse.quote(rel))
            files.append({"id": hashlib.sha1(rel.encode()).hexdigest(),
                          "key": key, "filename": rest, "size": len(data),
                          "directory": False, "annexed": annexed,
                          "urls": [url]})
        return {"data": {"snapshot": {"id": "%s:%s" % (ds, ARGS.tag),
                                      "tag": ARGS.tag, "files": files}}}


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # clients that hang up mid-body are part of the tests
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main():
    global ARGS, FAULTS
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--bucket", default="openneuro.org")
    ap.add_argument("--prefix", default="", help="key prefix, e.g. ds000001/")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--page", type=int, default=1000)
    ap.add_argument("--faults")
    ap.add_argument("--extra-key", action="append")
    ap.add_argument("--log")
    ap.add_argument("--no-encoding", action="store_true",
                    help="ignore encoding-type=url, as s3rver does")
    ap.add_argument("--dataset", default="ds000001")
    ap.add_argument("--tag", default="1.0.0")
    ap.add_argument("--files-base", help="base URL for GraphQL file urls")
    ARGS = ap.parse_args()
    if ARGS.faults:
        with open(ARGS.faults, encoding="utf-8") as f:
            FAULTS = json.load(f)
    scan()
    srv = Server(("127.0.0.1", ARGS.port), Handler)
    port = srv.server_address[1]
    if not ARGS.files_base:
        ARGS.files_base = "http://127.0.0.1:%d" % port
    print("PORT %d" % port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
