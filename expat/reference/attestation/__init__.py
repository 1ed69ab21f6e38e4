"""expat.reference.attestation"""
