//! Unit tests of the MCP server drafts.
