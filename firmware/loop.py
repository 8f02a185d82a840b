"""The cooperative loop: one asyncio task per job, and a watchdog fed only while all of them run.

    keypad   every 10 ms: scan, debounce, hand a press to the flow (and beep)
    flow     every 20 ms: finished network calls, retries, expiry, result timeout
    screen   every 20 ms: redraw when the flow's view changed; the countdown every 250 ms
    network  every 250 ms: Wi-Fi up / back-off, gateway health, heartbeat (firmware/link/owner.py)
    answers  when a lane sets the link's `answered` event: hand the answer to the flow at once
    watchdog every 500 ms: feed the hardware watchdog if every task above ran within
             `liveness_ms` (config.py checks it fits the watchdog's limit); reboot at idle when
             firmware/guard.py says one is due

Every task runs inside `guard.guarded`: an exception is logged and the task restarts; a
MemoryError collects the heap first; repeated failures reboot the terminal at the idle screen.

Network calls never run on this loop (the two lanes of firmware/link/owner.py are threads made at
boot), so no task waits for the gateway and the cancel key is handled within a scan or two.
"""
import asyncio
import time

from firmware.guard import Guard, guarded


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
            app.drawing.render(flow.view)
            app.rendered(flow.view)
        elif _since(last_count) >= 250:
            last_count = time.ticks_ms()
            app.drawing.tick()
        await asyncio.sleep_ms(20)


async def network_task(app):
    # Wi-Fi, health (a signed answer of any call counts), heartbeat: firmware/link/owner.py
    while True:
        app.alive["network"] = time.ticks_ms()
        app.link.step(app.flow)
        await asyncio.sleep_ms(250)


async def answers_task(app):
    # A lane finished a call: hand its answer to the flow now, not at the flow task's next tick.
    while True:
        await app.link.answered.wait()
        app.flow.tick()


async def watchdog_task(app):
    limit = getattr(app.cfg, "liveness_ms", None) or max(1000, app.cfg.watchdog_ms // 2)
    period = app.cfg.feed_ms  # firmware/config.py's LIVENESS_FEED_MS, checked against the watchdog there
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
        await asyncio.sleep_ms(period)


async def run(app):
    app.guard = Guard(app)
    jobs = [keypad_task, flow_task, screen_task, network_task, watchdog_task]
    if getattr(app, "link", None) is not None:
        jobs.append(answers_task)
    tasks = [asyncio.create_task(guarded(app, fn)) for fn in jobs]
    # The host's own tasks (simulator, tests) are not guarded: raising is how they stop the loop.
    for extra in app.extra_tasks:
        tasks.append(asyncio.create_task(extra(app)))
    await asyncio.gather(*tasks)
