"""wanxiang: a self-hosted Tencent Cloud Infinite (CI) job server."""
