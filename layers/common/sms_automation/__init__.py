"""Twilio SMS automation on AWS serverless: the shared package every function imports."""
