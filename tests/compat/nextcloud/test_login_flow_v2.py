"""Nextcloud's own Python client, nc_py_api, unmodified, logs in to Clavis through Login Flow
v2: init, the approval in headless Chromium (sign in on Clavis' pages, press Approve), poll,
then reads its user with the new app password; a second poll is a 404."""

import asyncio
import json
import os
import pathlib
import subprocess
import uuid

import niquests
import pytest
from nc_py_api import AsyncNextcloud, NextcloudException

PASSWORD = "correct horse battery"
UI_SUITE = pathlib.Path(__file__).resolve().parent.parent / "ui"


def register(public, email):
    flow = niquests.get(f"{public}/self-service/registration/api").json()
    answer = niquests.post(
        flow["ui"]["action"],
        json={"method": "password", "password": PASSWORD, "traits": {"email": email}},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["identity"]["id"]


def approve_in_chromium(login_url, email, client):
    done = subprocess.run(
        ["node", "approve.mjs", login_url, email, PASSWORD, client],
        cwd=UI_SUITE,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_nc_py_api_logs_in_through_login_flow_v2_and_reads_its_user(clavis):
    asyncio.run(log_in_and_read_user(clavis))


async def log_in_and_read_user(clavis):
    email = f"nc-{uuid.uuid4().hex[:8]}@example.org"
    identity = register(clavis["public"], email)
    client = "Clavis compat (nc_py_api)"

    nc = AsyncNextcloud(nextcloud_url=clavis["public"])
    flow = await nc.loginflow_v2.init(user_agent=client)
    assert len(flow.token) == 128
    assert flow.login.startswith(clavis["public"] + "/index.php/login/v2/flow/")
    with pytest.raises(NextcloudException) as pending:
        await nc.loginflow_v2.poll(flow.token, timeout=1, step=1, overwrite_auth=False)
    assert pending.value.status_code == 404

    facts = await asyncio.to_thread(approve_in_chromium, flow.login, email, client)
    assert facts["sameAddress"] is True
    assert "full access" in facts["warning"]
    assert facts["sessionKept"] is False, "the sign-in made only to approve ends with it"

    credentials = await nc.loginflow_v2.poll(flow.token, timeout=30, step=1)
    assert credentials.login_name == email
    assert len(credentials.app_password) == 72
    assert credentials.server == clavis["public"]
    assert await nc.user == identity

    with pytest.raises(NextcloudException) as again:
        await nc.loginflow_v2.poll(flow.token, timeout=1, step=1, overwrite_auth=False)
    assert again.value.status_code == 404
