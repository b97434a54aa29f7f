"""Station configuration pages: desired vs reported per station; admins edit, preview and push."""
