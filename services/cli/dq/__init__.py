"""opsuite dq and its subcommands: dq's status, checks, issues and quarantine, over DqService's RPCs."""
