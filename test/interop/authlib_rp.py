"""A relying party written with Authlib (Debian's python3-authlib), run by test/e2e/authlib.test.ts.

It signs a user in to Tessera by the authorization-code flow with PKCE and a nonce, the way a
Python web app would, and reports what it saw as JSON. The browser is not here: the script
prints the authorization URL, the test signs in through the login page and writes the URL the
browser was sent back to on stdin.

    stdout, line 1: {"authorization_url": "..."}
    stdin, line 1:  the callback URL (redirect URI with code, state and iss)
    stdout, line 2: the result (see main); exit status 0

Any unexpected failure is a traceback on stderr and a non-zero exit. Configuration comes from
the environment: TESSERA_ISSUER, RP_CLIENT_ID, RP_CLIENT_SECRET, RP_REDIRECT_URI (and
AUTHLIB_INSECURE_TRANSPORT=1, since the test server is http on loopback).
"""

import json
import os
import sys

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.oidc.core import CodeIDToken

TIMEOUT = 10


def refusal(action):
    """What Authlib raised for `action`; fails the run if it raised nothing."""
    try:
        action()
    except AuthlibBaseError as err:
        return {"error": err.error, "description": err.description}
    raise AssertionError("Authlib accepted what it should have refused")


def main():
    issuer = os.environ["TESSERA_ISSUER"]
    client_id = os.environ["RP_CLIENT_ID"]
    redirect_uri = os.environ["RP_REDIRECT_URI"]

    # OpenID Connect Discovery 1.0 §4.3: the document's issuer is the one asked for.
    meta = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=TIMEOUT).json()
    if meta["issuer"] != issuer:
        raise AssertionError(f"discovery names issuer {meta['issuer']!r}, not {issuer!r}")
    keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=TIMEOUT).json())
    jwt = JsonWebToken(meta["id_token_signing_alg_values_supported"])

    def id_token_claims(id_token, access_token, nonce=None, audience=client_id):
        params = {"access_token": access_token, "client_id": client_id}
        if nonce is not None:
            params["nonce"] = nonce
        claims = jwt.decode(
            id_token,
            keys,
            claims_cls=CodeIDToken,
            claims_options={
                "iss": {"essential": True, "value": issuer},
                "aud": {"essential": True, "value": audience},
            },
            claims_params=params,
        )
        claims.validate()
        return claims

    session = OAuth2Session(
        client_id,
        os.environ["RP_CLIENT_SECRET"],
        scope="openid email profile offline_access",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        default_timeout=TIMEOUT,
    )
    code_verifier = generate_token(48)
    nonce = generate_token(20)
    url, state = session.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce
    )
    print(json.dumps({"authorization_url": url}), flush=True)
    callback = sys.stdin.readline().strip()

    token_endpoint = meta["token_endpoint"]
    # Refused before any request is sent, so the code is still unused afterwards.
    wrong_state = refusal(
        lambda: session.fetch_token(
            token_endpoint,
            authorization_response=callback,
            state="not-the-state-sent",
            code_verifier=code_verifier,
        )
    )
    token = session.fetch_token(
        token_endpoint, authorization_response=callback, state=state, code_verifier=code_verifier
    )
    id_token, access_token = token["id_token"], token["access_token"]
    claims = id_token_claims(id_token, access_token, nonce)

    header, payload, signature = id_token.split(".")
    # A changed character in the middle of the signature (the last one may only hold padding bits).
    middle = len(signature) // 2
    forged_signature = (
        signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1 :]
    )
    forged = f"{header}.{payload}.{forged_signature}"

    userinfo = session.get(meta["userinfo_endpoint"])
    userinfo.raise_for_status()

    refreshed = session.refresh_token(token_endpoint)
    refreshed_claims = id_token_claims(refreshed["id_token"], refreshed["access_token"])
    userinfo_after = session.get(meta["userinfo_endpoint"])
    userinfo_after.raise_for_status()

    result = {
        "wrong_state": wrong_state,
        "token": {
            "token_type": token["token_type"],
            "scope": token["scope"],
            "refresh_token": isinstance(token.get("refresh_token"), str),
        },
        "id_token": {
            "alg": claims.header["alg"],
            "iss": claims["iss"],
            "aud": claims["aud"],
            "sub": claims["sub"],
            "email": claims["email"],
            "tenant_id": claims["tenant_id"],
            "nonce": claims["nonce"] == nonce,
            # validate() checks at_hash only when the claim is there: say that it was.
            "at_hash": "at_hash" in claims,
        },
        "refused": {
            "wrong_nonce": refusal(lambda: id_token_claims(id_token, access_token, "other-nonce")),
            "another_access_token": refusal(
                lambda: id_token_claims(id_token, refreshed["access_token"], nonce)
            ),
            "another_audience": refusal(
                lambda: id_token_claims(id_token, access_token, nonce, "another-client")
            ),
            "forged_signature": refusal(lambda: id_token_claims(forged, access_token, nonce)),
        },
        "userinfo": userinfo.json(),
        "refresh": {
            "new_access_token": refreshed["access_token"] != access_token,
            "rotated": refreshed["refresh_token"] != token["refresh_token"],
            "sub": refreshed_claims["sub"],
            "auth_time_kept": refreshed_claims["auth_time"] == claims["auth_time"],
            "nonce": "nonce" in refreshed_claims,
            "userinfo_sub": userinfo_after.json()["sub"],
        },
        # The rotated-out refresh token, presented again (last: its reuse ends the grant).
        "reused_refresh_token": refusal(
            lambda: session.refresh_token(token_endpoint, refresh_token=token["refresh_token"])
        ),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
