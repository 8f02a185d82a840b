"""The cooperative loop: one asyncio task per job, and a watchdog fed only while all of them run.

    keypad   every 10 ms: scan, debounce, hand a press to the flow (and beep)
    flow     every 20 ms: finished network calls, retries, expiry, result timeout
    screen   every 20 ms: redraw when the flow's view changed; the countdown every 250 ms
    network  every 250 ms: Wi-Fi up / back-off, clock, gateway health, heartbeat
    watchdog every 500 ms: feed the hardware watchdog if every task above ran within
             `liveness_ms` (config.py checks it fits the watchdog's limit); reboot at idle when
             firmware/guard.py says one is due

Every task runs inside `guard.guarded`: an exception is logged and the task restarts; a
MemoryError collects the heap first; repeated failures reboot the terminal at the idle screen.

Network calls never run on this loop (firmware/link/worker.py puts them on threads), so no task waits
for the gateway and the cancel key is handled within a scan or two.
"""
import asyncio
import time

from firmware.config import LIVENESS_FEED_MS
from firmware.guard import Guard, guarded

from firmware.sale import flow as F
from firmware.link import gateway as gw
from firmware.link import net
from firmware.link.worker import Job

_HEALTH_OK_MS = 30000  # when the gateway answered last time
_HEALTH_BAD_MS = 3000  # while offline: look again soon, so the offline screen clears by itself
_HEARTBEAT_MS = 60000
_QUIET = (F.IDLE, F.ALERT)


def _since(t):
    return time.ticks_diff(time.ticks_ms(), t)


async def keypad_task(app):
    while True:
        app.alive["keypad"] = time.ticks_ms()
        if app.keypad is not None:
            act = app.keypad.poll()
            if act is not None:
                app.signals.beep(25)
                app.flow.key(act)
        await asyncio.sleep_ms(10)


async def flow_task(app):
    while True:
        app.alive["flow"] = time.ticks_ms()
        app.flow.tick()
        app.signals.tick()
        await asyncio.sleep_ms(20)


async def screen_task(app):
    seen = -1
    last_count = time.ticks_ms()
    while True:
        app.alive["screen"] = time.ticks_ms()
        flow = app.flow
        if flow.view_seq != seen:
            seen = flow.view_seq
            app.ui.render(flow.view)
            app.rendered(flow.view)
        elif _since(last_count) >= 250:
            last_count = time.ticks_ms()
            app.ui.tick()
        await asyncio.sleep_ms(20)


async def network_task(app):
    flow = app.flow
    job = None
    checked = None
    beat = time.ticks_ms()
    ntp_tried = False
    while True:
        app.alive["network"] = time.ticks_ms()
        up = app.wifi.step() if app.wifi is not None else True
        if job is not None and job.done:
            if job.kind == "ntp":  # Unix seconds or None; the gateway's signed time is the fallback
                if job.value:
                    app.clock.set(job.value)
                    checked = None
            else:
                ans = job.value
                flow.set_online(ans.kind != gw.DOUBT)
                if job.kind == "time" and ans.kind == gw.OK:
                    checked = None  # time known: check health right away
            job = None
        if not up:
            flow.set_online(False)
        elif job is None:
            due = _HEALTH_OK_MS if flow.online else _HEALTH_BAD_MS
            if not app.clock.synced and flow.state in _QUIET:
                if app.cfg.ntp_host and not ntp_tried:
                    # NTP needs the Wi-Fi link, so it is asked here, once the link is up (and on a
                    # worker thread: ntptime blocks for up to a second).
                    ntp_tried = True
                    job = app.start(Job("ntp"), net.ntp_time, app.cfg.ntp_host)
                else:
                    job = app.start(Job("time"), app.gateway.call, "GET", "/v1/time")
            elif (checked is None or _since(checked) >= due) and flow.state in _QUIET:
                checked = time.ticks_ms()
                job = app.start(Job("health"), app.gateway.health)
            elif _since(beat) >= _HEARTBEAT_MS and flow.state in _QUIET:
                beat = time.ticks_ms()
                job = app.start(Job("heartbeat"), app.gateway.heartbeat, app.heartbeat_info())
        await asyncio.sleep_ms(250)


async def watchdog_task(app):
    limit = getattr(app.cfg, "liveness_ms", None) or max(1000, app.cfg.watchdog_ms // 2)
    guard = getattr(app, "guard", None)
    while True:
        ok = True
        for name in ("keypad", "flow", "screen", "network"):
            t = app.alive.get(name)
            if t is None or _since(t) > limit:
                ok = False
        if ok and app.wdt is not None:
            app.wdt.feed()
        app.watchdog_ok = ok
        if guard is not None:
            guard.look()
        await asyncio.sleep_ms(LIVENESS_FEED_MS)


async def run(app):
    app.guard = Guard(app)
    jobs = [keypad_task, flow_task, screen_task, network_task, watchdog_task]
    tasks = [asyncio.create_task(guarded(app, fn)) for fn in jobs]
    # The host's own tasks (simulator, tests) are not guarded: raising is how they stop the loop.
    for extra in app.extra_tasks:
        tasks.append(asyncio.create_task(extra(app)))
    await asyncio.gather(*tasks)
