"""OPC UA acquisition (asyncua): configured node ids per compressor, data-change subscriptions
where the server supports them (reads otherwise), status codes mapped to quality codes."""
