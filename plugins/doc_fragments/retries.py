# -*- coding: utf-8 -*-

# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Retry and call-accounting options shared by the claude_fleet.bedrock AWS modules.
    DOCUMENTATION = r"""
options:
  retries:
    description:
      - Maximum number of attempts for each AWS request.
      - Throttling and transient errors (C(ThrottlingException), C(ServiceUnavailableException),
        C(InternalServerException) and the codes amazon.aws retries) are retried with a jittered
        exponential backoff (C(AWSRetry.jittered_backoff)).
      - botocore's own retries are switched off so that every attempt is counted in RV(aws_calls)
        and RV(aws_retries); O(aws_config) can switch them back on.
    type: int
    default: 10
  retry_delay:
    description:
      - Base delay in seconds of the jittered exponential backoff (capped at 30 seconds per wait).
    type: float
    default: 1.0
"""
