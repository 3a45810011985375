#!/usr/bin/env python3
"""Embed the web interface's files in C: embed-web.py OUT FILE...

Writes a table of struct sv_web_file (serve/web.h): {name, content type,
bytes, length, sha256 hex}, one entry per file, named by its base name
(web/app.js -> "app.js"), ending with {NULL}."""
import hashlib
import os
import sys

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}

out, srcs = sys.argv[1], sys.argv[2:]
with open(out, "w") as f:
    f.write("/* generated from web/ by tools/embed-web.py; do not edit */\n")
    f.write('#include "serve/web.h"\n')
    for i, src in enumerate(srcs):
        data = open(src, "rb").read()
        f.write("static const unsigned char file%d[] = {\n" % i)
        for k in range(0, len(data), 16):
            f.write("    " + ",".join(str(b) for b in data[k:k + 16]) + ",\n")
        f.write("    0};\n")
    f.write("const struct sv_web_file sv_web_files[] = {\n")
    for i, src in enumerate(srcs):
        data = open(src, "rb").read()
        name = os.path.basename(src)
        ctype = TYPES.get(os.path.splitext(name)[1], "application/octet-stream")
        f.write('    {"%s", "%s", file%d, %d, "%s"},\n'
                % (name, ctype, i, len(data), hashlib.sha256(data).hexdigest()))
    f.write("    {NULL, NULL, NULL, 0, NULL},\n};\n")
