# Copyright: wso2si.keystores contributors
# Apache License 2.0 (see LICENSE)
"""A JSON callback for the secrets test: every task result, item result and
diff, whole (invocation included), one JSON document per line, in the file
JSON_EVENTS_FILE. It stands in for ansible.posix.json (not installed here):
the same results, as a controller or a log shipper would keep them."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = '''
    name: json_events
    type: notification
    short_description: every task result as one JSON line in JSON_EVENTS_FILE
    description: Test helper of the rollout_secrets target.
    requirements: [JSON_EVENTS_FILE in the environment]
'''

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = 'json_events'
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, event, result):
        res = getattr(result, 'result', None)
        if res is None:
            res = result._result
        task = getattr(result, 'task', None) or getattr(result, '_task', None)
        host = getattr(result, 'host', None) or getattr(result, '_host', None)
        head = json.dumps({'event': event, 'host': host.get_name() if host else None,
                           'task': task.get_name() if task else None})
        if event == 'diff':
            body = json.dumps(self._get_diff(res.get('diff') or []))
        else:
            body = self._dump_results(res, indent=None, keep_invocation=True)
        with open(os.environ['JSON_EVENTS_FILE'], 'a') as f:
            f.write('{"head": %s, "result": %s}\n' % (head, body))

    def v2_runner_on_ok(self, result):
        self._write('ok', result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write('failed', result)

    def v2_runner_on_skipped(self, result):
        self._write('skipped', result)

    def v2_runner_on_unreachable(self, result):
        self._write('unreachable', result)

    def v2_runner_item_on_ok(self, result):
        self._write('item_ok', result)

    def v2_runner_item_on_failed(self, result):
        self._write('item_failed', result)

    def v2_runner_item_on_skipped(self, result):
        self._write('item_skipped', result)

    def v2_on_file_diff(self, result):
        self._write('diff', result)
