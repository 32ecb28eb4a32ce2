"""The Feishu side: the Open API client (the only importer of lark_oapi), typed events, signatures."""
