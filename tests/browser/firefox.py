#!/usr/bin/python3
"""Asks Firefox ESR (headless, WebDriver BiDi) whether it connects to URL.

firefox.py --root ROOT.pem --host NAME --url URL --workdir DIR [--timeout S]

Builds a fresh profile in DIR/profile whose certificate database trusts only
ROOT.pem, starts Firefox in its own process group, navigates to URL, and
prints one line on stdout:

    accept                 the page loaded (documentURI is URL)
    refuse CODE            an about:neterror/about:certerror page; CODE is
                           Firefox's error name (MOZILLA_PKIX_ERROR_...)

Exit 0 with that line; 2 when the harness itself failed (message on stderr);
3 when Firefox tried to reach anything but NAME (listed on stderr). Firefox's
pid goes to DIR/firefox.pid, so a runner can kill its process group even if
this script is killed. Every wait is bounded by --timeout.

Needs /usr/bin/python3 with python3-websockets, firefox-esr, certutil
(libnss3-tools). Test code only.
"""

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time

import websockets

FIREFOX = os.environ.get("SG_FIREFOX", "firefox-esr")


def prefs(host, sink_port):
    """user.js for the oracle: (pref, value, why). No traffic may leave
    loopback: the test name resolves locally, every other request goes to a
    proxy on 127.0.0.1 that only records it (the sink), and the services that
    would phone home are switched off so that the sink stays empty."""
    return [
        # What the oracle is about.
        ("network.dns.localDomains", host, "the test name resolves to loopback, no DNS"),
        ("network.dns.disableIPv6", True, "test servers listen on 127.0.0.1 only"),
        ("security.OCSP.enabled", 0, "no OCSP fetching: only the staple counts"),
        ("security.ssl.enable_ocsp_stapling", True, "ask for the staple (default)"),
        ("security.enterprise_roots.enabled", False, "no roots from the OS"),
        # Nothing but the test name goes direct; the rest meets the sink.
        ("network.proxy.type", 1, "manual proxy: the sink"),
        ("network.proxy.http", "127.0.0.1", "sink"),
        ("network.proxy.http_port", sink_port, "sink"),
        ("network.proxy.ssl", "127.0.0.1", "sink"),
        ("network.proxy.ssl_port", sink_port, "sink"),
        ("network.proxy.no_proxies_on", host, "the test server is reached directly"),
        ("network.trr.mode", 5, "no DNS over HTTPS"),
        ("network.dns.disablePrefetch", True, "no DNS prefetch"),
        ("network.prefetch-next", False, "no link prefetch"),
        ("network.http.speculative-parallel-limit", 0, "no speculative connections"),
        ("browser.urlbar.speculativeConnect.enabled", False, "no speculative connections"),
        ("network.captive-portal-service.enabled", False, "no detectportal.firefox.com"),
        ("network.connectivity-service.enabled", False, "no connectivity probe"),
        ("security.certerrors.mitm.priming.enabled", False, "no MITM probe on cert errors"),
        ("security.certerrors.mitm.auto_enable_enterprise_roots", False, "keep OS roots off"),
        # Remote settings (blocklists, intermediates, CRLite, experiments).
        ("services.settings.server", "data:,#remote-settings-dummy/v1", "no sync"),
        ("security.remote_settings.intermediates.enabled", False, "no preloaded intermediates"),
        ("security.remote_settings.crlite_filters.enabled", False, "no CRLite downloads"),
        ("messaging-system.rsexperimentloader.enabled", False, "no Nimbus experiments"),
        ("app.normandy.enabled", False, "no Normandy"),
        ("app.normandy.api_url", "", "no Normandy"),
        ("app.shield.optoutstudies.enabled", False, "no studies"),
        # Updates and add-ons.
        ("app.update.disabledForTesting", True, "no update checks"),
        ("app.update.auto", False, "no update checks"),
        ("extensions.update.enabled", False, "no add-on updates"),
        ("extensions.systemAddon.update.enabled", False, "no system add-on updates"),
        ("extensions.getAddons.cache.enabled", False, "no AMO metadata"),
        ("media.gmp-manager.updateEnabled", False, "no codec plugin downloads"),
        ("browser.search.update", False, "no search engine updates"),
        ("browser.region.network.url", "", "no region lookup"),
        ("browser.region.update.enabled", False, "no region lookup"),
        ("geo.provider.network.url", "", "no geolocation service"),
        ("dom.push.connection.enabled", False, "no push service"),
        ("identity.fxaccounts.enabled", False, "no Firefox accounts"),
        # Safe Browsing and tracking protection lists.
        ("browser.safebrowsing.malware.enabled", False, "no list downloads"),
        ("browser.safebrowsing.phishing.enabled", False, "no list downloads"),
        ("browser.safebrowsing.downloads.enabled", False, "no list downloads"),
        ("browser.safebrowsing.blockedURIs.enabled", False, "no list downloads"),
        ("browser.safebrowsing.provider.mozilla.updateURL", "", "no list downloads"),
        ("browser.safebrowsing.provider.google4.updateURL", "", "no list downloads"),
        ("privacy.trackingprotection.enabled", False, "no list downloads"),
        # Telemetry.
        ("toolkit.telemetry.enabled", False, "no telemetry"),
        ("toolkit.telemetry.unified", False, "no telemetry"),
        ("toolkit.telemetry.archive.enabled", False, "no telemetry"),
        ("toolkit.telemetry.server", "", "no telemetry"),
        ("datareporting.healthreport.uploadEnabled", False, "no telemetry"),
        ("datareporting.policy.dataSubmissionEnabled", False, "no telemetry"),
        ("datareporting.usage.uploadEnabled", False, "no usage ping"),
        ("browser.ping-centre.telemetry", False, "no telemetry"),
        ("browser.newtabpage.activity-stream.telemetry", False, "no telemetry"),
        # First run, start page, new tab content, background features.
        ("browser.shell.checkDefaultBrowser", False, "no first-run dialog"),
        ("browser.startup.homepage_override.mstone", "ignore", "no what's-new page"),
        ("startup.homepage_welcome_url", "about:blank", "no welcome page"),
        ("startup.homepage_welcome_url.additional", "", "no welcome page"),
        ("browser.aboutwelcome.enabled", False, "no welcome page"),
        ("datareporting.policy.dataSubmissionPolicyBypassNotification", True, "no privacy notice tab"),
        ("termsofuse.bypassNotification", True, "no terms of use dialog"),
        ("browser.startup.page", 0, "start on about:blank"),
        ("browser.startup.homepage", "about:blank", "start on about:blank"),
        ("browser.newtabpage.enabled", False, "blank new tab"),
        ("browser.topsites.contile.enabled", False, "no sponsored tiles"),
        ("browser.urlbar.merino.endpointURL", "", "no suggestions service"),
        ("browser.discovery.enabled", False, "no recommendations"),
        ("browser.ml.enable", False, "no model downloads"),
        ("browser.translations.enable", False, "no translation models"),
        ("browser.sessionstore.resume_from_crash", False, "no restored tabs"),
    ]


def write_profile(profile, root, host, sink_port):
    os.makedirs(profile)
    for cmd in (["certutil", "-N", "-d", "sql:" + profile, "--empty-password"],
                ["certutil", "-A", "-d", "sql:" + profile, "-n", "staplegate-test-root",
                 "-t", "C,,", "-i", root]):
        subprocess.run(cmd, check=True, timeout=30, stdout=subprocess.DEVNULL)
    with open(os.path.join(profile, "user.js"), "w") as f:
        for name, value, _why in prefs(host, sink_port):
            f.write("user_pref(%s, %s);\n" % (json.dumps(name), json.dumps(value)))


class Sink:
    """The proxy every non-test request meets: records its first line
    (CONNECT host:port, or GET url) and closes."""

    def __init__(self):
        self.seen = []

    async def start(self):
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def handle(self, reader, writer):
        try:
            line = await asyncio.wait_for(reader.readline(), 5)
            self.seen.append(line.decode("latin-1").strip() or "(empty request)")
        except Exception:
            self.seen.append("(connection without a request)")
        writer.close()


async def wait_for_bidi_port(log, proc, deadline):
    pattern = re.compile(r"WebDriver BiDi listening on ws://127\.0\.0\.1:(\d+)")
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("firefox exited with %s before listening" % proc.returncode)
        try:
            with open(log, errors="replace") as f:
                m = pattern.search(f.read())
            if m:
                return int(m.group(1))
        except FileNotFoundError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError("firefox did not start WebDriver BiDi in time")


class Bidi:
    def __init__(self, ws):
        self.ws, self.next_id = ws, 0

    async def call(self, method, params):
        """Result of a command, or the error object (type "error")."""
        self.next_id += 1
        my_id = self.next_id
        await self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(await self.ws.recv())
            if msg.get("id") == my_id:
                return msg


async def visit(port, url):
    """(documentURI, navigation error message or None)."""
    async with websockets.connect("ws://127.0.0.1:%d/session" % port, max_size=None,
                                  open_timeout=10, close_timeout=1) as ws:
        b = Bidi(ws)
        r = await b.call("session.new", {"capabilities": {}})
        if r.get("type") != "success":
            raise RuntimeError("session.new: %s" % r.get("message"))
        r = await b.call("browsingContext.getTree", {"maxDepth": 0})
        ctx = r["result"]["contexts"][0]["context"]
        nav = await b.call("browsingContext.navigate",
                           {"context": ctx, "url": url, "wait": "complete"})
        r = await b.call("script.evaluate", {"expression": "document.documentURI",
                                             "target": {"context": ctx},
                                             "awaitPromise": False})
        if r.get("type") != "success" or r["result"].get("type") != "success":
            raise RuntimeError("script.evaluate: %s" % json.dumps(r)[:300])
        err = nav.get("message") if nav.get("type") == "error" else None
        return r["result"]["result"]["value"], err


def outcome(uri, err, url):
    if uri.startswith("about:neterror") or uri.startswith("about:certerror"):
        # "NS_ERROR_GENERATE_FAILURE(NS_ERROR_MODULE_SECURITY, MOZILLA_PKIX_...)"
        m = re.search(r"NS_ERROR_MODULE_SECURITY, (\w+)\)", err or "")
        if m:
            return "refuse " + m.group(1)
        m = re.search(r"[?&]e=(\w+)", uri)
        return "refuse " + (m.group(1) if m else "unknown")
    if uri == url:
        return "accept"
    raise RuntimeError("unexpected page %s (navigation: %s)" % (uri, err))


async def run(args):
    deadline = time.monotonic() + args.timeout
    sink = Sink()
    sink_port = await sink.start()
    profile = os.path.join(args.workdir, "profile")
    home = os.path.join(args.workdir, "home")
    log = os.path.join(args.workdir, "firefox.log")
    write_profile(profile, args.root, args.host, sink_port)
    os.makedirs(home, exist_ok=True)
    # MOZ_DISABLE_NONLOCAL_CONNECTIONS is what Firefox's own test harnesses
    # set: necko refuses any socket to a non-loopback address, and release
    # builds then honour services.settings.server (else ignored).
    env = dict(os.environ, HOME=home, XDG_CACHE_HOME=home, XDG_CONFIG_HOME=home,
               MOZ_CRASHREPORTER_DISABLE="1", MOZ_HEADLESS="1",
               MOZ_DISABLE_NONLOCAL_CONNECTIONS="1")
    with open(log, "w") as out:
        proc = subprocess.Popen([FIREFOX, "--headless", "--no-remote",
                                 "--remote-debugging-port", "0", "--profile", profile,
                                 "about:blank"],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                env=env, start_new_session=True)
    with open(os.path.join(args.workdir, "firefox.pid"), "w") as f:
        f.write("%d\n" % proc.pid)
    try:
        port = await wait_for_bidi_port(log, proc, deadline)
        uri, err = await asyncio.wait_for(visit(port, args.url),
                                          max(1, deadline - time.monotonic()))
        return outcome(uri, err, args.url), sink.seen
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
        sink.server.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    # A TERM from the runner's timeout unwinds through run()'s finally, which
    # kills Firefox's process group.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(2))
    try:
        result, seen = asyncio.run(run(args))
    except (Exception, asyncio.TimeoutError) as e:
        print("firefox.py: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 2
    if seen:
        counts = {}
        for line in seen:
            counts[line] = counts.get(line, 0) + 1
        print("firefox.py: firefox tried to leave loopback: %s" %
              "; ".join("%s (x%d)" % kv for kv in sorted(counts.items())), file=sys.stderr)
        return 3
    print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
