# -*- coding: utf-8 -*-
# Copyright (c) wso2si.keystores contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filters of the fleet report (playbooks/report.yml): thin wrappers of module_utils/report_render.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.wso2si.keystores.plugins.module_utils import report_render


def report_fleet(results, generated_at, renew_before_days=30):
    """The fleet document from {host: si_report's registered result}."""
    if not isinstance(results, dict):
        raise AnsibleFilterError('report_fleet expects a mapping of host names to si_report results')
    return report_render.build_fleet(dict((str(k), v) for k, v in results.items()), generated_at, renew_before_days)


RENDERERS = {
    'json': report_render.to_json,
    'html': report_render.to_html,
    'markdown': report_render.to_markdown,
}


def report_render_as(fleet, fmt):
    """The fleet document as json, html or markdown text."""
    if fmt not in RENDERERS:
        raise AnsibleFilterError('report_render_as: the format must be one of %s (got %r)' % (', '.join(sorted(RENDERERS)), fmt))
    return RENDERERS[fmt](fleet)


class FilterModule(object):
    def filters(self):
        return {
            'report_fleet': report_fleet,
            'report_render_as': report_render_as,
        }
