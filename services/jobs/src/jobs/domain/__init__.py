"""The jobs domain: postings, applications, fairs, piecework, training, leads, matching."""
