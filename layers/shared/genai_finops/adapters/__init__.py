"""AWS adapters used by the Lambda handlers: S3 downloads of exports and log objects, configuration from S3."""
