"""The web interface (#14) in a real browser: Debian's chromium, headless,
driven by selenium over `golive serve` on a real store.  One chromium for
the module; each test has its own run and server.  "Appears" means without
a reload (a marker set in the page before stays), waiting up to 10 s."""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

import serving
from conftest import BIN, ROOT, SANITIZER_MARKS, golive
from serving import PausedSync, Server, issue_token

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import (  # noqa: E402
    ElementNotInteractableException, StaleElementReferenceException)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

PLAN = """\
cutover: claims-v2
title: Claims platform
switch_at: 2026-03-14T00:00:00+08:00
people:
  - {id: lead, roles: [lead]}
  - {id: ann, roles: [ops, tester]}
  - {id: bob, roles: [ops, dev, tester]}
  - {id: cy, roles: [ops, dev]}
tasks:
  - {id: t1, title: Freeze the old system, stage: prepare, owner: ann,
     checker: bob, duration: 10m}
  - {id: t2, title: Second, stage: prepare, owner: bob, checker: ann,
     depends_on: [t1], duration: 10m}
scenarios:
  - {id: S1, title: Order, area: sales, priority: P0, risk: 3}
  - {id: S2, title: Invoice, area: finance, priority: P1, risk: 1}
gates:
  go:
    - no_open_blockers
    - p0_scenarios_passed
"""

SHOTS = os.path.join(ROOT, "build", "screenshots")
WAIT = 10


@pytest.fixture(scope="module")
def browser():
    chrome = shutil.which("chromium")
    driver_bin = shutil.which("chromedriver")
    if not chrome or not driver_bin:
        pytest.skip("chromium and chromium-driver are not installed")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--window-size=1280,1000",
              "--lang=en-US"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(driver_bin),
                         options=opts)
    yield d
    d.quit()


@pytest.fixture
def run(tmp_path, browser):
    """A started run of PLAN and the browser at its defaults (English,
    desktop size, no cookies)."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    assert golive("run", "start", plan).rc == 0
    # off the last test's page (its stream would log the stopped server's
    # refusals into this test's console)
    browser.get("about:blank")
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.delete_all_cookies()
    browser.get_log("browser")
    return tmp_path / "golive.state"


def link(state, person):
    r = golive("token", "issue", "--state", state, "--for", person, "--as",
               "lead", "--json")
    assert r.rc == 0, r
    return json.loads(r.out)["link"]


def sign_in(d, s, state, person):
    """Through the sign-in link, as `golive token issue` prints it."""
    url = re.sub(r"^http://[^/]+", s.url, link(state, person))
    d.get("about:blank")
    d.get(url)
    wait(d, lambda d: d.execute_script("return location.pathname") == "/"
         and d.find_elements(By.ID, "light"))
    # the session is the person's, in this tab
    assert d.execute_script(
        "return sessionStorage.getItem('golive.person')") == person


def wait(d, cond, timeout=WAIT):
    return WebDriverWait(d, timeout, poll_frequency=0.1, ignored_exceptions=(
        StaleElementReferenceException,
        ElementNotInteractableException)).until(cond)


def click(d, css):
    """Click the element css names (the page re-renders as events come:
    the element is found again when it went stale)."""
    def go(d):
        d.find_element(By.CSS_SELECTOR, css).click()
        return True
    wait(d, go)


def type_into(d, css, value):
    def go(d):
        d.find_element(By.CSS_SELECTOR, css).send_keys(value)
        return True
    wait(d, go)


def keys(d, *k):
    """Keys pressed on whatever has the focus (no element in between)."""
    ActionChains(d).send_keys(*k).perform()


def attr(d, css, name):
    return wait(d, lambda d: [d.find_element(By.CSS_SELECTOR, css)
                              .get_attribute(name)])[0]


def text(d, css):
    return " ".join(e.text for e in d.find_elements(By.CSS_SELECTOR, css))


def mark(d):
    """A marker that a reload would lose."""
    d.execute_script("window.__same_page = 1")


def same_page(d):
    return d.execute_script("return window.__same_page") == 1


def errors(d, allow=()):
    """The console's errors since the last call, except those allowed."""
    out = []
    for e in d.get_log("browser"):
        if e["level"] != "SEVERE":
            continue
        if any(a in e["message"] for a in allow):
            continue
        out.append(e["message"])
    return out


def shot(d, name):
    os.makedirs(SHOTS, exist_ok=True)
    d.save_screenshot(os.path.join(SHOTS, name + ".png"))


def test_pages_are_embedded_with_csp_etag_and_small(run):
    with Server(run) as s:
        st, h, body = s.call("GET", "/")
        assert st == 200
        assert h["Content-Type"].startswith("text/html")
        assert "default-src 'self'" in h["Content-Security-Policy"]
        assert "<script>" not in body and "style=" not in body
        assert 'name="viewport"' in body
        etag = h["ETag"]
        assert h["Cache-Control"] == "no-cache"
        # the same page again: 304 for the client that holds it
        st, h2, _ = s.call("GET", "/me", headers={"If-None-Match": etag})
        assert st == 304 and h2["ETag"] == etag
        total = len(body.encode())
        for a in ("app.js", "i18n.js", "app.css", "icon.svg"):
            st, h, b = s.call("GET", "/assets/" + a)
            assert st == 200, a
            assert h["ETag"] and h["Content-Security-Policy"]
            total += len(b.encode())
        assert h["Content-Type"] == "image/svg+xml"
        # the war room with all it loads stays under 200 KB
        assert total < 200 * 1024, total
        st, _, b = s.call("GET", "/assets/nope.js")
        assert st == 404
        st, _, b = s.call("GET", "/assets/app.html")
        assert st == 404
        # the pages need no token; the API does
        assert s.call("GET", "/defects")[0] == 200
        assert s.call("GET", "/api/v1/status")[0] == 401
        # the sync executions read on a fresh server (the war room's)
        tok = issue_token(run, "lead")
        st, _, b = s.call("GET", "/api/v1/syncs", tok)
        assert st == 200 and b == {"syncs": []}, b


def test_sign_in_war_room_live_languages_tv_sign_out(run, browser):
    d = browser
    assert golive("defect", "open", "--state", run, "--severity", "blocker",
                  "--title", "Totals are wrong", "--as", "ann").rc == 0
    with Server(run) as s:
        # the console is watched: an error logged is caught
        d.get(s.url + "/login")
        d.execute_script("console.error('probe-error')")
        assert any("probe-error" in m for m in errors(d))

        sign_in(d, s, run, "lead")
        # the token never stays in the address bar
        assert "#t=" not in d.current_url and d.current_url.endswith("/")
        assert d.find_element(By.ID, "title").text == "Claims platform"
        wait(d, lambda d: re.match(r"^T[+−]\d",
                                   d.find_element(By.ID, "tclock").text))
        light = d.find_element(By.ID, "light").text
        assert "NO-GO" in light
        rules = text(d, "#gate .rules li")
        assert "no_open_blockers" in rules and "Totals are wrong" in rules
        assert "D-1" in text(d, "#blockers")
        # the timeline: each task planned, expected, and a now line
        rows = text(d, ".tl-row .tl-label")
        assert "t1" in rows and "t2" in rows
        assert len(d.find_elements(By.CSS_SELECTOR, ".tl-row .tl-now")) == 2
        assert len(d.find_elements(By.CSS_SELECTOR, ".tl-bar.plan")) == 2
        wait(d, lambda d: "live" in d.find_element(By.ID, "conn").text)
        shot(d, "warroom-desktop")
        # a change with the CLI on the store appears without a reload
        mark(d)
        assert golive("defect", "open", "--state", run, "--severity",
                      "blocker", "--title", "Lost attachments", "--as",
                      "bob").rc == 0
        wait(d, lambda d: "D-2" in text(d, "#blockers"))
        assert "Lost attachments" in text(d, "#gate .rules li")
        assert same_page(d)

        # Chinese labels at the switch, the plan's text as written
        click(d, "#lang")
        wait(d, lambda d: "不上线" in d.find_element(By.ID, "light").text)
        assert "阻塞项" in text(d, "section.blockers h2")
        assert d.find_element(By.ID, "title").text == "Claims platform"
        shot(d, "warroom-zh-desktop")
        click(d, "#lang")
        wait(d, lambda d: "NO-GO" in d.find_element(By.ID, "light").text)

        # the wall: no actions, no sign-out
        d.get(s.url + "/?tv=1")
        wait(d, lambda d: d.find_elements(By.ID, "light"))
        assert "tv" in d.find_element(By.TAG_NAME, "body").get_attribute(
            "class")
        visible = [b for b in d.find_elements(By.TAG_NAME, "button")
                   if b.is_displayed() and b.get_attribute("id") != "lang"]
        assert visible == [], [b.text for b in visible]
        assert d.find_elements(By.CSS_SELECTOR, "#nav a") == []
        shot(d, "tv-desktop")

        # every page signed in logs no error
        for p in ("/", "/me", "/defects", "/duty", "/events", "/report"):
            d.get(s.url + p)
            wait(d, lambda d: d.find_elements(By.ID, "title"))
            time.sleep(0.3)
        assert errors(d) == []

        # sign-out ends the session on the server
        cookie = d.get_cookie("golive_session")["value"]
        d.get(s.url + "/")
        wait(d, lambda d: d.find_element(By.ID, "signout").is_displayed())
        click(d, "#signout")
        wait(d, lambda d: d.execute_script(
            "return location.pathname") == "/login")
        st, _, _ = s.call("GET", "/api/v1/me",
                          headers={"Cookie": "golive_session=" + cookie})
        assert st == 401
        assert d.get_cookie("golive_session") is None


def test_owner_and_checker(run, browser):
    d = browser
    with Server(run) as s:
        sign_in(d, s, run, "ann")
        d.get(s.url + "/me")
        wait(d, lambda d: d.find_elements(By.ID, "b-t1-start"))
        mark(d)
        click(d, "#b-t1-start")
        wait(d, lambda d: d.find_element(By.ID, "b-t1-done")
             .get_attribute("aria-disabled") is None)
        click(d, "#b-t1-done")
        wait(d, lambda d: "done" in text(d, "#mytasks [data-task=t1] .state"))
        # the owner's own check: refused, the API's reason naming the
        # checker
        assert attr(d, "#b-t1-check", "aria-disabled") == "true"
        click(d, "#b-t1-check")
        wait(d, lambda d: "its checker bob signs it off"
             in d.find_element(By.ID, "flash").text)
        assert same_page(d)
        shot(d, "me-desktop")

        # the checker's page offers the check; done by keyboard alone
        sign_in(d, s, run, "bob")
        d.get(s.url + "/me")
        wait(d, lambda d: d.find_elements(By.ID, "b-t1-check"))
        assert attr(d, "#b-t1-check", "aria-disabled") is None
        body = d.find_element(By.TAG_NAME, "body")
        body.click()
        for _ in range(80):
            if d.execute_script(
                    "return document.activeElement.id") == "b-t1-check":
                break
            keys(d, Keys.TAB)
        else:
            pytest.fail("the check is not reachable by keyboard")
        keys(d, Keys.ENTER)
        wait(d, lambda d: not d.find_elements(By.ID, "b-t1-check"))
        tok = issue_token(run, "lead")
        st, _, t1 = s.call("GET", "/api/v1/tasks/t1", tok)
        assert t1["state"] == "checked"
        # a handover moves bob's work to cy
        type_into(d, "#ho-to", "cy")
        click(d, "#ho-go")
        wait(d, lambda d: "handed over to cy" in text(d, "#flash"))
        st, _, t2 = s.call("GET", "/api/v1/tasks/t2", tok)
        assert t2["owner"] == "cy", t2
        wait(d, lambda d: not d.find_elements(By.ID, "b-t2-start"))
        assert errors(d) == []


def test_tester_defect_gate_and_duty(run, browser):
    d = browser
    with Server(run) as s:
        sign_in(d, s, run, "ann")
        d.get(s.url + "/me")
        wait(d, lambda d: d.find_elements(By.ID, "next"))
        click(d, "#next")
        wait(d, lambda d: d.find_elements(By.ID, "b-S1-fail"))
        type_into(d, "#note-scen-S1", "order total wrong")
        click(d, "#b-S1-fail")
        wait(d, lambda d: d.find_elements(By.ID, "sev-S1"))
        click(d, "#sev-S1 option[value=blocker]")
        click(d, "[data-scenario=S1] [data-action=open-defect]")
        tok = issue_token(run, "lead")
        wait(d, lambda d: s.call("GET", "/api/v1/defects/D-1", tok)[0] == 200)
        st, _, df = s.call("GET", "/api/v1/defects/D-1", tok)
        assert st == 200 and df["scenario"] == "S1", df
        assert df["severity"] == "blocker"

        # the war room names it
        d.get(s.url + "/")
        wait(d, lambda d: "D-1" in text(d, "#gate .rules li"))
        assert "NO-GO" in d.find_element(By.ID, "light").text

        # a dev fixes it, someone else verifies it: the criterion clears
        sign_in(d, s, run, "bob")
        d.get(s.url + "/defects")
        wait(d, lambda d: d.find_elements(By.ID, "b-D-1-fixing"))
        click(d, "#b-D-1-fixing")
        wait(d, lambda d: d.find_element(By.ID, "b-D-1-fixed")
             .get_attribute("aria-disabled") is None)
        click(d, "#b-D-1-fixed")
        wait(d, lambda d: "fixed" in text(d, "[data-defect=D-1] .state"))
        shot(d, "defects-desktop")
        sign_in(d, s, run, "cy")
        d.get(s.url + "/defects")
        wait(d, lambda d: d.find_elements(By.ID, "b-D-1-verify"))
        click(d, "#b-D-1-verify")
        wait(d, lambda d: "verified" in text(d, "[data-defect=D-1] .state"))
        # a comment, and the defect's comments shown
        type_into(d, "#note-def-D-1", "checked on branch 12")
        click(d, "#b-D-1-comment")
        click(d, "#cm-D-1")
        wait(d, lambda d: "cy: checked on branch 12" in text(d, "#comments-D-1"))
        d.get(s.url + "/")
        wait(d, lambda d: any(
            "no_open_blockers" in li.text and li.text.startswith("✔")
            for li in d.find_elements(By.CSS_SELECTOR, "#gate .rules li")))

        # the duty desk logs a call and turns it into a defect
        d.get(s.url + "/duty")
        wait(d, lambda d: d.find_elements(By.ID, "call-text"))
        type_into(d, "#call-text", "branch 12 cannot log in")
        click(d, "#log-call")
        wait(d, lambda d: d.find_elements(By.ID, "b-H-1-defect"))
        click(d, "#b-H-1-defect")
        wait(d, lambda d: "→ D-2" in text(d, "[data-duty=H-1]"))
        shot(d, "duty-desktop")
        d.get(s.url + "/events")
        wait(d, lambda d: "chain verifies" in text(d, "#chain"))
        assert "duty.log" in text(d, "#events") or "duty" in text(d, "#events")
        shot(d, "events-desktop")
        assert errors(d) == []


def test_reconnects_after_a_restart(run, browser, monkeypatch):
    d = browser
    s = Server(run).start()
    try:
        sign_in(d, s, run, "lead")
        wait(d, lambda d: "live" in d.find_element(By.ID, "conn").text)
        mark(d)
        port = s.port
        s.stop()
        wait(d, lambda d: "cannot be reached"
             in d.find_element(By.ID, "conn").text)
        monkeypatch.setattr(serving, "free_port", lambda: port)
        s = Server(run).start()
        wait(d, lambda d: "live" in d.find_element(By.ID, "conn").text,
             timeout=20)
        assert golive("defect", "open", "--state", run, "--severity",
                      "blocker", "--title", "After the restart", "--as",
                      "ann").rc == 0
        wait(d, lambda d: "After the restart" in text(d, "#blockers"))
        assert same_page(d)
    finally:
        s.stop()
    errors(d)  # the refused connections while it was down


def test_phone_width(run, browser):
    d = browser
    assert golive("defect", "open", "--state", run, "--severity", "blocker",
                  "--title", "A rather long defect title that has to wrap "
                  "on a narrow phone screen without scrolling sideways",
                  "--as", "ann").rc == 0
    with Server(run) as s:
        sign_in(d, s, run, "ann")
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 360, "height": 740, "deviceScaleFactor": 2,
            "mobile": True})
        try:
            for p, name in (("/", "warroom"), ("/?tv=1", "tv"), ("/me", "me"),
                            ("/defects", "defects"), ("/duty", "duty"),
                            ("/events", "events"), ("/report", "report"),
                            ("/login", "login")):
                d.get(s.url + p)
                if name == "login":
                    wait(d, lambda d: d.find_elements(By.ID, "token"))
                else:
                    wait(d, lambda d: d.find_elements(By.ID, "title"))
                time.sleep(0.2)
                w = d.execute_script(
                    "return Math.max(document.documentElement.scrollWidth,"
                    " document.body.scrollWidth)")
                assert w <= 360, (p, w)
                shot(d, name + "-phone")
        finally:
            d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        assert errors(d) == []


def test_demo_serve_prints_a_link_for_everyone(tmp_path, browser):
    """`golive demo --serve`: the demo built and played, then served with
    a sign-in link for every person of its plan and the wall."""
    d = browser
    port = serving.free_port()
    e = dict(os.environ)
    for k in ("GOLIVE_STATE", "GOLIVE_USER", "GOLIVE_NOW"):
        e.pop(k, None)
    proc = subprocess.Popen(
        [BIN, "demo", "--dir", str(tmp_path / "demo"), "--rows", "100",
         "--serve", "--listen", "127.0.0.1:%d" % port],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=e)
    links = {}
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            m = re.match(r"\s+T-\d+\s+(\S+)\s+(http://\S+/login#t=[0-9a-f]{64})",
                         line)
            if m:
                links[m.group(1)] = m.group(2)
            if line.startswith("open a link above"):
                break
        assert set(links) == {"zhang", "lifei", "wang", "chen", "liu",
                              "zhao", "huang", "zhou", "wall"}, links
        url = "http://127.0.0.1:%d" % port

        def up(_):
            try:
                return serving.request(url, "GET", "/healthz")[0] == 200
            except OSError:
                return False
        wait(d, up, timeout=20)
        d.get("about:blank")
        d.get(links["zhang"])
        wait(d, lambda d: d.find_elements(By.ID, "light"))
        assert "OA v2" in d.find_element(By.ID, "title").text
        # served, the night is over by the real clock: T+ an hour or so,
        # not hours before a T0 whose decision is already taken (trial)
        wait(d, lambda d: d.find_element(By.ID, "tclock").text.startswith(
            ("T+", "T＋")))
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    r = golive("audit", "verify", "--state", tmp_path / "demo" / "golive.state")
    assert r.rc == 0 and "clock went back" not in r.err, r
    for mark_ in SANITIZER_MARKS:
        assert mark_ not in err, err


def test_checks_show_their_latest_result(tmp_path, browser):
    """The war room's checks say what GET /checks says: a passed check is
    ✔, a failed one ✖ (a passed one showed ✖: new-user trial)."""
    d = browser
    demo = tmp_path / "demo"
    r = golive("demo", "--dir", demo, "--rows", "300")
    assert r.rc == 0, r
    state = demo / "golive.state"
    d.get("about:blank")
    d.delete_all_cookies()
    with Server(state) as s:
        tok = json.loads(golive("token", "issue", "--state", state, "--for",
                                "zhang", "--as", "zhang", "--json").out)
        st, _, ck = s.call("GET", "/api/v1/checks", tok["token"])
        assert st == 200
        want = {c["check"]: c["outcome"] for c in ck["checks"]}
        assert "passed" in want.values(), want
        url = re.sub(r"^http://[^/]+", s.url, tok["link"])
        d.get(url)
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, ".card.checks li"))
        seen = {}
        for li in d.find_elements(By.CSS_SELECTOR, ".card.checks li"):
            name = li.find_element(By.TAG_NAME, "b").text
            seen[name] = (li.get_attribute("class"), li.text[0])
        for name, out in want.items():
            if out == "passed":
                assert seen[name] == ("ok", "✔"), (name, seen[name])
            elif out:
                assert seen[name] == ("bad", "✖"), (name, seen[name])


def test_a_running_sync_shows_its_progress(tmp_path, browser):
    """The war room shows a running sync's rows so far and its total,
    from GET /syncs (#14.3)."""
    from conftest import GOOD_PLAN
    d = browser
    plan = tmp_path / "plan.yaml"
    plan.write_text(GOOD_PLAN.lstrip())
    assert golive("run", "start", plan).rc == 0
    state = tmp_path / "golive.state"
    with PausedSync(plan):
        d.get("about:blank")
        d.delete_all_cookies()
        with Server(state) as s:
            sign_in(d, s, state, "lead")
            wait(d, lambda d: d.find_elements(By.CSS_SELECTOR,
                                              ".card.syncs .sync-progress"))
            txt = text(d, ".card.syncs .sync-progress")
            assert re.search(r"written [0-9]+ / 3000", txt), txt
