"""The official data files nasrank reads: where each comes from (``sources``), what a folder holds
(``check``) and a resumable, checksum-verified download of those with stable public URLs
(``download``). Used by ``nasrank data``; nothing here imports torch."""
