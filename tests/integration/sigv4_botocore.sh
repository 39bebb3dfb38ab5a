#!/bin/sh
# rtc's SigV4 against an independent signer, Debian's python3-botocore:
# header signatures (S3SigV4Auth) and presigned URLs (S3SigV4QueryAuth)
# for keys with spaces, unicode, '+', '=', '~', '(', '%', and for query
# values holding '/', '+' and '=' (continuation tokens, upload ids),
# with and without a session token, signed and unsigned payloads. The
# request targets rtc would send are checked against Python's own
# percent-encoding too.
. "$RTC_TOP_SRCDIR/tests/integration/lib.sh"
. "$RTC_TOP_SRCDIR/tests/integration/s3_common.sh"
set -e
"$PY" -c 'import botocore' 2>/dev/null || {
	[ "${CI:-}" = true ] && fail "CI=true but python3-botocore is missing"
	skip "python3-botocore not installed (tests/setup/s3.sh install)"
}
[ -x "$S3_TOOL" ] || fail "no s3_tool"
S3_TOOL="$S3_TOOL" "$PY" - <<'PYEOF' || fail "botocore disagrees"
import datetime as real_dt
import hashlib
import os
import subprocess
import sys
from urllib.parse import quote, urlsplit, parse_qsl

import botocore.auth
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

WHEN = real_dt.datetime(2024, 2, 29, 23, 59, 58)


class FixedDT(real_dt.datetime):
    @classmethod
    def utcnow(cls):
        return cls(WHEN.year, WHEN.month, WHEN.day, WHEN.hour, WHEN.minute,
                   WHEN.second)


class Shim:
    datetime = FixedDT


botocore.auth.datetime = Shim
EPOCH = int((WHEN - real_dt.datetime(1970, 1, 1)).total_seconds())
TOOL = os.environ["S3_TOOL"]
HOST = "127.0.0.1:4568"
AK, SK = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "eu-central-1"

keys = [
    "bucket/plain.txt",
    "bucket/with space.txt",
    "bucket/unicode-\u1234-\u00e9-\u65e5\u672c.nii.gz",
    "bucket/a+b=c~d(e)!f*g'h.tsv",
    "bucket/dir/sub dir/x@y:z;w,v$u&t.json",
    "bucket/%41literal-percent",
    "bucket/trailing/",
    "openneuro.org/ds000001/sub-01/func/sub-01_task-x_run-01_bold.nii.gz",
]
queries = [
    [],
    [("list-type", "2"), ("prefix", "ds 1/sub+x=y"),
     ("continuation-token", "1Csy/IzA+aK9TJhYTJR4="), ("delimiter", "/")],
    [("uploadId", "up+id/1=="), ("partNumber", "3")],
    [("versionId", "abc.DEF_~-"), ("uploads", "")],
]
headers = [
    {},
    {"Range": "bytes=100-"},
    {"x-amz-meta-note": "  spaced   value  ", "Content-Type": "text/plain"},
]
tokens = [None, "FwoGZXIvYXdzEBYaD+/tok=="]
payloads = [b"", b"hello world", None]   # None: UNSIGNED-PAYLOAD

fails = 0
count = 0


def tool(args, token):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK,
               AWS_REGION=REGION)
    env.pop("AWS_SESSION_TOKEN", None)
    if token:
        env["AWS_SESSION_TOKEN"] = token
    r = subprocess.run([TOOL] + args, env=env, capture_output=True)
    if r.returncode != 0:
        sys.exit("s3_tool failed: %r" % r.stderr)
    return r.stdout.decode("utf-8").splitlines()


def enc(s, safe):
    return quote(s, safe=safe)


for key in keys:
    path = "/" + key
    for q in queries:
        for h in headers:
            for token in tokens:
                for body in payloads:
                    count += 1
                    args = ["sign", "GET" if body == b"" else "PUT", HOST,
                            path, str(EPOCH)]
                    for k, v in q:
                        args += ["-q", "%s=%s" % (k, v)]
                    for k, v in h.items():
                        args += ["-H", "%s:%s" % (k, v)]
                    if body is None:
                        args += ["-p", "UNSIGNED-PAYLOAD"]
                    elif body:
                        args += ["-p", hashlib.sha256(body).hexdigest()]
                    target, authz = tool(args, token)
                    # the path as Python encodes it, independently
                    want_path = enc(path, "/-_.~")
                    got_path = target.split("?", 1)[0]
                    if got_path != want_path:
                        fails += 1
                        print("path %r: rtc %s, python %s" % (key, got_path,
                              want_path))
                    url = "http://%s%s" % (HOST, want_path)
                    if q:
                        url += "?" + "&".join(
                            "%s=%s" % (enc(k, "-_.~"), enc(v, "-_.~"))
                            for k, v in q)
                    req = AWSRequest(method=args[1], url=url,
                                     headers=dict(h),
                                     data=body if body else b"")
                    if body is None:
                        req.context["client_config"] = Config(
                            s3={"payload_signing_enabled": False})
                    creds = Credentials(AK, SK, token)
                    S3SigV4Auth(creds, "s3", REGION).add_auth(req)
                    if req.headers["Authorization"] != authz:
                        fails += 1
                        print("header signature differs for %r %r %r %r:\n"
                              "  rtc      %s\n  botocore %s" % (
                                  key, q, h, token, authz,
                                  req.headers["Authorization"]))
                    rq = sorted(parse_qsl(urlsplit(target).query,
                                          keep_blank_values=True))
                    if rq != sorted(q):
                        fails += 1
                        print("query round trip %r != %r" % (rq, q))

# presigned URLs
for key in keys:
    for q in queries[:3]:
        for token in tokens:
            for expires in (60, 86400, 604800):
                count += 1
                path = "/" + key
                args = ["sign", "GET", HOST, path, str(EPOCH), "-e",
                        str(expires)]
                for k, v in q:
                    args += ["-q", "%s=%s" % (k, v)]
                target = tool(args, token)[0]
                url = "http://%s%s" % (HOST, enc(path, "/-_.~"))
                if q:
                    url += "?" + "&".join(
                        "%s=%s" % (enc(k, "-_.~"), enc(v, "-_.~"))
                        for k, v in q)
                req = AWSRequest(method="GET", url=url)
                S3SigV4QueryAuth(Credentials(AK, SK, token), "s3", REGION,
                                 expires=expires).add_auth(req)
                mine = dict(parse_qsl(urlsplit(target).query,
                                      keep_blank_values=True))
                theirs = dict(parse_qsl(urlsplit(req.url).query,
                                        keep_blank_values=True))
                if mine != theirs:
                    fails += 1
                    print("presign differs for %r %r %r:\n  rtc      %s\n"
                          "  botocore %s" % (key, q, token, target, req.url))

print("compared %d signatures with botocore %s: %d differ" % (
    count, botocore.__version__, fails))
sys.exit(1 if fails else 0)
PYEOF
echo "PASS"
