"""Code shared by every deployed function: settings, CAMS access, retry, HTTP plumbing and logs."""
