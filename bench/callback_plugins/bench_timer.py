# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Benchmark timer: the wall time of every task (and handler) of a playbook run.

Enabled by bench/run.py with ANSIBLE_CALLBACKS_ENABLED=bench_timer; writes a
JSON list to $BENCH_TIMER_OUT:

    [{"name": ..., "action": ..., "start": s, "end": s, "seconds": s,
      "hosts": {"si1": "ok" | "changed" | "skipped" | "failed" | "unreachable"},
      "items": {"si1": number of loop items run}}, ...]

A task's wall time runs from its start to the start of the next task (the
linear strategy runs one task on every host of the batch before the next), so
the times of all tasks add up to the play's time.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: bench_timer
type: aggregate
short_description: Wall time of each task, written as JSON for bench/run.py
description: Writes the start, end and per-host status of every task to the file named by BENCH_TIMER_OUT.
requirements: [enable in ansible.cfg or with ANSIBLE_CALLBACKS_ENABLED]
'''

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_timer'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.tasks = []
        self.started = time.time()

    def _close_current(self, now):
        if self.tasks and self.tasks[-1]['end'] is None:
            self.tasks[-1]['end'] = now
            self.tasks[-1]['seconds'] = now - self.tasks[-1]['start']

    def _start(self, task, handler=False):
        now = time.time()
        self._close_current(now)
        self.tasks.append({'name': task.get_name(), 'action': task.action, 'handler': handler,
                           'start': now, 'end': None, 'seconds': None, 'hosts': {}, 'items': {}})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task, handler=True)

    def v2_playbook_on_play_start(self, play):
        self._close_current(time.time())

    def _result(self, result, status):
        if self.tasks:
            self.tasks[-1]['hosts'][result._host.get_name()] = status

    def _item(self, result):
        if self.tasks:
            host = result._host.get_name()
            self.tasks[-1]['items'][host] = self.tasks[-1]['items'].get(host, 0) + 1

    def v2_runner_item_on_ok(self, result):
        self._item(result)

    def v2_runner_item_on_failed(self, result):
        self._item(result)

    def v2_runner_on_ok(self, result):
        self._result(result, 'changed' if result._result.get('changed') else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._result(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._result(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        now = time.time()
        self._close_current(now)
        out = os.environ.get('BENCH_TIMER_OUT')
        if out:
            with open(out, 'w') as f:
                json.dump({'started': self.started, 'ended': now, 'tasks': self.tasks}, f, indent=1)
