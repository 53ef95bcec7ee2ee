"""The timer function: health checks of the WABA bindings of configured customer spaces."""
