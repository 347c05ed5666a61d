"""The inspector console (Streamlit) and the pwatch command line."""
