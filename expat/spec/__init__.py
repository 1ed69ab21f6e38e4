"""expat.spec"""
