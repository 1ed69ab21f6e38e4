"""expat.model"""
