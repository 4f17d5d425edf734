"""The webhook signature helpers of the Python SDK: the same vector atone's own test and the
TypeScript SDK's check, round trips, and every refusal."""

import unittest

from atone.webhook import WebhookSignatureError, sign_webhook, verify_webhook

BODY = '{"event_id":"evt-1","amount":4709}'
T = 1767225600
VECTOR = "7583ef64fc4e88865888ff6f180ccf620914ae12bb391a3b05e061124cf30c25"


class WebhookTest(unittest.TestCase):
    def test_the_shared_vector(self):
        self.assertEqual(sign_webhook(BODY, "whsec-test", T), f"t={T},v1={VECTOR}")
        self.assertEqual(verify_webhook(BODY, f"t={T},v1={VECTOR}", "whsec-test", now=T + 10), T)
        self.assertEqual(verify_webhook(BODY.encode(), f"t={T}, v1={VECTOR}", ["old", "whsec-test"], now=T), T)

    def test_a_rotated_secret(self):
        both = sign_webhook(BODY, "new", T) + ",v1=" + sign_webhook(BODY, "old", T).split("v1=")[1]
        self.assertEqual(verify_webhook(BODY, both, "old", now=T), T)
        self.assertEqual(verify_webhook(BODY, both, ["new"], now=T), T)

    def test_what_is_refused_and_why(self):
        good = sign_webhook(BODY, "whsec-test", T)
        cases = [
            (BODY.replace("4709", "9999"), good, "whsec-test", T, "does not match"),
            (BODY, good, "another", T, "does not match"),
            (BODY, good, "whsec-test", T + 301, "more than 300 s"),
            (BODY, good, "whsec-test", T - 301, "more than 300 s"),
            (BODY, None, "whsec-test", T, "no Atone-Signature"),
            (BODY, f"v1={VECTOR}", "whsec-test", T, "no t="),
            (BODY, f"t={T}", "whsec-test", T, "no v1"),
            (BODY, f"t={T},v1=zz", "whsec-test", T, "not a hex"),
            (BODY, f"t={T}," + ",".join([f"v1={VECTOR}"] * 9), "whsec-test", T, "more than 8"),
        ]
        for body, header, secrets, now, why in cases:
            with self.subTest(why=why, header=header):
                with self.assertRaisesRegex(WebhookSignatureError, why):
                    verify_webhook(body, header, secrets, now=now)
        self.assertEqual(verify_webhook(BODY, good, "whsec-test", tolerance_seconds=3600, now=T + 3000), T)


if __name__ == "__main__":
    unittest.main()
