"""A local Antom (Alipay Order Code Payment) sandbox: the signed AMS API, a wallet page,
notifications with retries, and fault scenarios. See docs/sandbox.md."""
