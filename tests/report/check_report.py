#!/usr/bin/env python3
"""`coresift report` rendered in a real browser (docs/report.md).

For each case the script writes the page, checks it is self-contained (no http(s):// or
protocol-relative src/href, no <link>, no external script, no CSS url()/@import), checks the
embedded document is `report --json` and no '<' of it is raw, then loads the page in headless
Chromium with the network disabled (a proxy that refuses every connection) and checks the DOM:
the page's script ran to the end with no error (window.onerror, console.error and unhandled
rejections are written into #cs-status), the flame graph SVG is there with nodes, and:

  * census: corpus/cores/census.kcore.core.zst (crashed by SIGSEGV, 3 arenas) with
    --module-dir corpus/cores/bin: #owners-flame, the crashed thread first, 3 arena bars;
    and, opened as page#cs-selftest-zoom, a click on a signature zooms the icicle into it
    and a click on its root resets it (the page's own self-test, results in #cs-status);
  * growth: --baseline growth.1.core growth.2.core (the growth_cores fixture): the growth
    section (#growth) names text:GROWTH-REACH-# (the biggest growth class) and
    text:GROWTH-LEAK-#, and #growth-flame is drawn.

A 1400x1000 screenshot of each page is kept in OUT_DIR (report-census.png, report-growth.png)
with the pages themselves (report-census.html, report-growth.html).

usage: check_report.py CORESIFT SRC_DIR GROWTH_CORES_DIR OUT_DIR     exit 0 pass, 1 fail, 77 skip
(77 only where Chromium is not installed)."""
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

TIMEOUT = 180


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


class Dom(html.parser.HTMLParser):
    """Elements by id (their attributes) and the visible text of each element with an id."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.by_id = {}
        self.text = {}
        self.stack = []  # (tag, id or None)
        self.skip = 0
        self.ordered = []  # (tag, attrs) in document order

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.ordered.append((tag, a))
        if tag in self.VOID:
            if a.get("id"):
                self.by_id[a["id"]] = a
            return
        self.stack.append((tag, a.get("id")))
        if a.get("id"):
            self.by_id[a["id"]] = a
            self.text.setdefault(a["id"], [])
        if tag in ("script", "style"):
            self.skip += 1

    def handle_startendtag(self, tag, attrs):
        a = dict(attrs)
        self.ordered.append((tag, a))
        if a.get("id"):
            self.by_id[a["id"]] = a

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                for t, _ in self.stack[i:]:
                    if t in ("script", "style"):
                        self.skip -= 1
                del self.stack[i:]
                break

    def handle_data(self, data):
        if self.skip:
            return
        for _, i in self.stack:
            if i:
                self.text[i].append(data)

    def text_of(self, i):
        return " ".join(self.text.get(i, []))


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, timeout=TIMEOUT, **kw)


def chromium_args(chromium, profile):
    return [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--user-data-dir=" + profile, "--no-first-run", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            # the network: every connection goes to a proxy that refuses it
            "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
            "--enable-logging=stderr", "--v=0"]


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def check_static(page, doc, bad, where):
    text = page.decode("utf-8")
    for pat, what in ((r"""(?:src|href|action|poster)\s*=\s*["']?\s*(?:https?:)?//""", "an external src/href"),
                      (r"<link\b", "a <link> element"), (r"<script[^>]*\bsrc\s*=", "an external script"),
                      (r"url\(\s*['\"]?\s*(?:https?:)?//", "a CSS url()"), (r"@import", "a CSS @import"),
                      (r"<iframe\b", "an iframe")):
        if re.search(pat, text, re.I):
            bad.append("%s: the page has %s" % (where, what))
    m = re.search(r'<script type="application/json" id="coresift-data">(.*?)</script>', text, re.S)
    if not m:
        bad.append("%s: no embedded document" % where)
        return
    data = m.group(1)
    if "<" in data:
        bad.append("%s: a raw '<' in the embedded document" % where)
    try:
        embedded = json.loads(data)
    except ValueError as e:
        bad.append("%s: the embedded document is not JSON: %s" % (where, e))
        return
    if embedded != doc:
        bad.append("%s: the embedded document differs from `report --json`" % where)
    for key in ("summary", "info", "maps", "heap", "groups", "leaks", "owners", "stacks", "threads"):
        if key not in embedded:
            bad.append("%s: the document has no %r" % (where, key))


def render(chromium, page_path, png_path, bad, where):
    """The DOM after the page's script ran, or None; writes the screenshot."""
    profile = tempfile.mkdtemp(prefix="coresift-report-chromium-")
    try:
        url = "file://" + os.path.abspath(page_path)
        p = run(chromium_args(chromium, profile) + ["--dump-dom", url])
        if p.returncode != 0:
            bad.append("%s: chromium --dump-dom exited %d: %s" % (where, p.returncode, p.stderr.decode(errors="replace")[-800:]))
            return None
        log = p.stderr.decode(errors="replace")
        for line in log.splitlines():
            if "CONSOLE" in line and ("Uncaught" in line or "Error" in line):
                bad.append("%s: console: %s" % (where, line.strip()[:300]))
        dom = Dom()
        dom.feed(p.stdout.decode("utf-8", errors="replace"))
        if os.path.exists(png_path):
            os.remove(png_path)
        shutil.rmtree(profile, ignore_errors=True)
        os.makedirs(profile)
        s = run(chromium_args(chromium, profile) + ["--screenshot=" + os.path.abspath(png_path), "--window-size=1400,1000", url])
        size = png_size(png_path) if os.path.exists(png_path) else None
        if s.returncode != 0 or size is None:
            bad.append("%s: no screenshot (chromium exited %d)" % (where, s.returncode))
        elif size != (1400, 1000):
            bad.append("%s: screenshot is %dx%d, not 1400x1000" % (where, size[0], size[1]))
        return dom
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def check_rendered(dom, bad, where, flame_id):
    st = dom.by_id.get("cs-status")
    if st is None:
        bad.append("%s: no #cs-status in the DOM" % where)
        return False
    if st.get("data-rendered") != "1":
        bad.append("%s: the page's script did not finish (data-rendered=%r)" % (where, st.get("data-rendered")))
    if st.get("data-errors") != "0":
        bad.append("%s: %s script errors: %s" % (where, st.get("data-errors"), dom.text_of("cs-errors")[:800]))
    svg = dom.by_id.get(flame_id)
    if svg is None:
        bad.append("%s: no flame graph SVG #%s" % (where, flame_id))
    elif int(svg.get("data-nodes", "0")) < 3:
        bad.append("%s: #%s has %s nodes" % (where, flame_id, svg.get("data-nodes")))
    return True


def make(coresift, args, out_html, bad, where):
    p = run([coresift, "report", *args, "-o", out_html])
    if p.returncode != 0:
        bad.append("%s: coresift report exited %d: %s" % (where, p.returncode, p.stderr.decode(errors="replace")[-800:]))
        return None, None
    j = run([coresift, "report", *args, "--json"])
    if j.returncode != 0:
        bad.append("%s: coresift report --json exited %d" % (where, j.returncode))
        return None, None
    with open(out_html, "rb") as f:
        return f.read(), json.loads(j.stdout)


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    coresift, src, cores, out = sys.argv[1:]
    chromium = find_chromium()
    if not chromium:
        print("SKIPPED: chromium is not installed (.ci/setup installs it where it can)")
        return 77
    os.makedirs(out, exist_ok=True)
    bad = []

    # A crashed core with three arenas.
    where = "census.kcore"
    page, doc = make(coresift, [os.path.join(src, "corpus/cores/census.kcore.core.zst"), "--module-dir",
                                os.path.join(src, "corpus/cores/bin")], os.path.join(out, "report-census.html"), bad, where)
    if page is not None:
        print("%s: %d bytes of HTML" % (where, len(page)))
        check_static(page, doc, bad, where)
        dom = render(chromium, os.path.join(out, "report-census.html"), os.path.join(out, "report-census.png"), bad, where)
        if dom and check_rendered(dom, bad, where, "owners-flame"):
            threads = [a for t, a in dom.ordered if t == "details" and "thread" in a.get("class", "").split()]
            if not threads or "crashed" not in threads[0].get("class", ""):
                bad.append("%s: the crashed thread is not first" % where)
            bars = [a for t, a in dom.ordered if t == "svg" and a.get("class") == "arena-bar"]
            if len(bars) != 3:
                bad.append("%s: %d arena bars, expected 3" % (where, len(bars)))
            if "SIGSEGV" not in dom.text_of("summary"):
                bad.append("%s: the summary does not name SIGSEGV" % where)
            if "growth" in dom.by_id:
                bad.append("%s: a growth section without --baseline" % where)
            # The icicle's zoom, driven by the page's self-test (#cs-selftest-zoom).
            profile = tempfile.mkdtemp(prefix="coresift-report-chromium-")
            try:
                url = "file://" + os.path.abspath(os.path.join(out, "report-census.html")) + "#cs-selftest-zoom"
                p = run(chromium_args(chromium, profile) + ["--dump-dom", url])
                z = Dom()
                z.feed(p.stdout.decode("utf-8", errors="replace"))
                st = z.by_id.get("cs-status", {})
                if st.get("data-selftest-zoom") != "ok" or st.get("data-selftest-reset") != "ok":
                    bad.append("%s: icicle zoom self-test: zoom %r, reset %r, errors %r" % (
                        where, st.get("data-selftest-zoom"), st.get("data-selftest-reset"), z.text_of("cs-errors")[:300]))
            finally:
                shutil.rmtree(profile, ignore_errors=True)

    # The growth pair of the fixture.
    where = "growth.1 -> growth.2"
    old, new = os.path.join(cores, "growth.1.core"), os.path.join(cores, "growth.2.core")
    if not (os.path.exists(old) and os.path.exists(new)):
        bad.append("%s: no growth cores in %s (the growth_cores fixture makes them)" % (where, cores))
    else:
        page, doc = make(coresift, ["--baseline", old, new], os.path.join(out, "report-growth.html"), bad, where)
        if page is not None:
            print("%s: %d bytes of HTML" % (where, len(page)))
            check_static(page, doc, bad, where)
            if "diff" not in doc:
                bad.append("%s: the document has no diff" % where)
            dom = render(chromium, os.path.join(out, "report-growth.html"), os.path.join(out, "report-growth.png"), bad, where)
            if dom and check_rendered(dom, bad, where, "owners-flame"):
                if "growth-flame" not in dom.by_id:
                    bad.append("%s: no growth flame graph #growth-flame" % where)
                elif int(dom.by_id["growth-flame"].get("data-nodes", "0")) < 3:
                    bad.append("%s: #growth-flame has too few nodes" % where)
                text = dom.text_of("growth")
                for cls in ("text:GROWTH-REACH-#", "text:GROWTH-LEAK-#"):
                    if cls not in text:
                        bad.append("%s: the growth section does not name %s" % (where, cls))
                top = dom.text_of("growth-top-class").strip()
                if top != "text:GROWTH-REACH-#":
                    bad.append("%s: the biggest growth class shown is %r, expected text:GROWTH-REACH-#" % (where, top))

    for b in bad:
        print("FAIL: " + b)
    if not bad:
        print("report: pages, DOM and screenshots OK (%s)" % out)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
